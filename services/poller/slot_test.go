package poller

import (
	"testing"
	"time"
)

func TestSlots(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0) // a multiple of every interval below
	tests := map[string]struct {
		at              time.Time
		interval, phase time.Duration
		after, before   time.Time
	}{
		"on a slot both are the slot": {
			at: t0.Add(3 * time.Second), interval: 30 * time.Second, phase: 3 * time.Second,
			after: t0.Add(3 * time.Second), before: t0.Add(3 * time.Second),
		},
		"between slots": {
			at: t0.Add(10 * time.Second), interval: 30 * time.Second, phase: 3 * time.Second,
			after: t0.Add(33 * time.Second), before: t0.Add(3 * time.Second),
		},
		"just before the phase": {
			at: t0.Add(2 * time.Second), interval: 30 * time.Second, phase: 3 * time.Second,
			after: t0.Add(3 * time.Second), before: t0.Add(-27 * time.Second),
		},
		"a nanosecond after a slot": {
			at: t0.Add(time.Nanosecond), interval: time.Second, phase: 0,
			after: t0.Add(time.Second), before: t0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := slotAtOrAfter(tc.at, tc.interval, tc.phase); !got.Equal(tc.after) {
				t.Errorf("slotAtOrAfter = %v, want %v", got, tc.after)
			}
			if got := slotAtOrBefore(tc.at, tc.interval, tc.phase); !got.Equal(tc.before) {
				t.Errorf("slotAtOrBefore = %v, want %v", got, tc.before)
			}
		})
	}
}

func TestPhaseSpreadsTriggersAcrossTheInterval(t *testing.T) {
	interval := 30 * time.Second
	buckets := make([]int, 30) // one per second of the interval
	n := 30000
	for i := range n {
		p := phase("shop.so.app-"+time.Duration(i).String()+".0", interval)
		if p < 0 || p >= interval {
			t.Fatalf("phase %v outside [0, %v)", p, interval)
		}
		buckets[p/time.Second]++
	}
	for s, c := range buckets {
		if c < n/30*8/10 || c > n/30*12/10 {
			t.Errorf("second %d of the interval has %d polls, want about %d: polls bunch up", s, c, n/30)
		}
	}
}

func TestFirstPoll(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	interval, ph := 10*time.Second, 4*time.Second // slots at t0+4s, t0+14s, ...
	tests := map[string]struct {
		now, last time.Time
		want      time.Time
	}{
		"read in the current slot: wait for the next slot": {
			now: t0.Add(6 * time.Second), last: t0.Add(4*time.Second + 300*time.Millisecond),
			want: t0.Add(14 * time.Second),
		},
		"the slot after the last read passed: read within the catch-up window": {
			now: t0.Add(16 * time.Second), last: t0.Add(4*time.Second + 300*time.Millisecond),
			want: t0.Add(16*time.Second + 800*time.Millisecond), // 4/10 of the 2 s window
		},
		"never read: catch up": {
			now: t0.Add(6 * time.Second), last: time.Time{},
			want: t0.Add(6*time.Second + 800*time.Millisecond),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := firstPoll(tc.now, tc.last, interval, ph); !got.Equal(tc.want) {
				t.Errorf("firstPoll = %v, want %v", got.Sub(t0), tc.want.Sub(t0))
			}
		})
	}
}
