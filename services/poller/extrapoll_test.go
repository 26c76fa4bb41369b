package poller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExtraPollAt(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	type result struct {
		At time.Time
		OK bool
	}
	tests := map[string]struct {
		now, last, next time.Time
		want            result
	}{
		"long after the last poll: at once": {
			now: t0, last: t0.Add(-time.Second), next: t0.Add(29 * time.Second), want: result{t0, true},
		},
		"never polled: at once": {
			now: t0, next: t0.Add(2 * time.Second), want: result{t0, true},
		},
		"within the gap of the last poll: when the gap ends": {
			now: t0, last: t0.Add(-30 * time.Millisecond), next: t0.Add(29 * time.Second), want: result{t0.Add(70 * time.Millisecond), true},
		},
		"exactly the gap after the last poll: at once": {
			now: t0, last: t0.Add(-wakeGap), next: t0.Add(time.Second), want: result{t0, true},
		},
		"the scheduled poll comes first: none": {
			now: t0, last: t0.Add(-50 * time.Millisecond), next: t0.Add(20 * time.Millisecond), want: result{t0.Add(50 * time.Millisecond), false},
		},
		"the scheduled poll at the same instant: none": {
			now: t0, last: t0.Add(-time.Second), next: t0, want: result{t0, false},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			at, ok := extraPollAt(tc.now, tc.last, tc.next)
			if diff := cmp.Diff(tc.want, result{at, ok}); diff != "" {
				t.Errorf("extraPollAt (-want +got):\n%s", diff)
			}
		})
	}
}
