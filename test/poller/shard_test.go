package poller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/pollertest"
)

// TestSharding runs three replicas over 300 triggers, crashes one and adds another, and checks
// on the bus that every trigger is read by one replica at a time, at its interval, and again
// within its interval plus the handover after its replica died.
func TestSharding(t *testing.T) {
	const (
		objects  = 100 // three triggers each
		interval = 2 * time.Second
		// handover is how long a crashed replica's triggers wait for a new owner: the key's
		// TTL, the expiry reaching the watchers, and the catch-up window that spreads the
		// overdue triggers' first polls (min(interval, 2 s)).
		handover  = pollerTTL + time.Second + min(interval, 2*time.Second)
		tolerance = 300 * time.Millisecond // scheduling and publish latency on a busy 2-core machine
	)
	e := start(t)
	ns := e.namespace(t, "shard")
	for i := range objects {
		e.create(t, scaledObject(ns, fmt.Sprintf("app-%03d", i), int32(interval/time.Second),
			rabbit("q0", ""), rabbit("q1", ""), rabbit("q2", "")))
	}
	var keys []string
	for i := range objects {
		for j := range 3 {
			keys = append(keys, readingKey(ns, fmt.Sprintf("app-%03d", i), j))
		}
	}
	rec := e.recorder(t)
	src := pollertest.Constant(1, "rabbitmq")
	e.runPoller(t, poller.Config{ID: "p0"}, src)
	e.runPoller(t, poller.Config{ID: "p1"}, src)
	crash := e.runPoller(t, poller.Config{ID: "p2"}, src)

	rec.Wait(t, "every trigger read by one of three replicas", 20*time.Second, func(all map[string][]msg.Reading) bool {
		owners := map[string]bool{}
		for _, k := range keys {
			rs := all[k]
			if len(rs) == 0 {
				return false
			}
			owners[rs[len(rs)-1].Poller] = true
		}
		return len(owners) == 3
	})
	time.Sleep(2 * interval) // settle: the last joiner's handovers are done
	steady := time.Now()
	time.Sleep(3 * interval)

	killed := time.Now()
	crash(true)
	time.Sleep(interval + handover + 2*interval)
	after := time.Now()

	e.runPoller(t, poller.Config{ID: "p3"}, src)
	time.Sleep(5 * interval)
	end := time.Now()

	all := rec.All()
	ownedBy := map[string]int{}
	var maxGap time.Duration
	moved, overlaps := 0, 0
	for _, k := range keys {
		rs := since(all[k], steady)
		if len(rs) == 0 {
			t.Fatalf("%s: no reading after %v", k, steady)
		}
		// Steady state: one replica, one reading per interval.
		before := until(rs, killed)
		if ps := pollers(before); len(ps) != 1 {
			t.Errorf("%s: read by %v in steady state, want one replica", k, ps)
		}
		if n, want := len(before), int(killed.Sub(steady)/interval); n < want-1 || n > want+1 {
			t.Errorf("%s: %d readings in %v of steady state, want %d±1", k, n, killed.Sub(steady).Round(time.Millisecond), want)
		}
		if before[len(before)-1].Poller == "p2" {
			moved++
		}
		for i := 1; i < len(rs); i++ {
			gap := rs[i].ObservedAt.Sub(rs[i-1].ObservedAt)
			maxGap = max(maxGap, gap)
			if gap > interval+handover {
				t.Errorf("%s: unread for %v between %s at %v and %s (interval %v + handover %v)",
					k, gap.Round(time.Millisecond), rs[i-1].Poller, rs[i-1].ObservedAt.Sub(steady).Round(time.Millisecond), rs[i].Poller, interval, handover)
			}
			if rs[i].Poller != rs[i-1].Poller && gap < interval-tolerance {
				if rs[i].ObservedAt.Before(after) {
					t.Errorf("%s: read by %s and %s %v apart around the crash: two replicas in one interval",
						k, rs[i-1].Poller, rs[i].Poller, gap.Round(time.Millisecond))
				}
				overlaps++ // a join may cost one extra poll per moved trigger
			}
		}
		// After the crash: p2 is gone; after the join: p3 has its share.
		if ps := pollers(between(rs, killed.Add(handover), after)); slices.Contains(ps, "p2") || len(ps) != 1 {
			t.Errorf("%s: read by %v after the crash, want one of p0 and p1", k, ps)
		}
		last := rs[len(rs)-1]
		ownedBy[last.Poller]++
		if end.Sub(last.ObservedAt) > interval+tolerance {
			t.Errorf("%s: last read %v before the end", k, end.Sub(last.ObservedAt))
		}
	}
	t.Logf("after the crash %d triggers moved; longest gap %v (bound %v); overlaps around the join %d; final shares %v",
		moved, maxGap.Round(time.Millisecond), interval+handover, overlaps, ownedBy)
	if moved == 0 {
		t.Error("p2 owned no trigger before the crash")
	}
	for _, p := range []string{"p0", "p1", "p3"} {
		if ownedBy[p] < len(keys)/6 {
			t.Errorf("%s polls %d of %d triggers at the end, want about a third", p, ownedBy[p], len(keys))
		}
	}
	if overlaps > len(keys)/3 {
		t.Errorf("%d handover overlaps when p3 joined, want at most one poll per moved trigger", overlaps)
	}
}

func since(rs []msg.Reading, t time.Time) []msg.Reading {
	return slices.DeleteFunc(slices.Clone(rs), func(r msg.Reading) bool { return r.ObservedAt.Before(t) })
}

func until(rs []msg.Reading, t time.Time) []msg.Reading {
	return slices.DeleteFunc(slices.Clone(rs), func(r msg.Reading) bool { return !r.ObservedAt.Before(t) })
}

func between(rs []msg.Reading, from, to time.Time) []msg.Reading { return until(since(rs, from), to) }

// pollers lists the replicas that published rs.
func pollers(rs []msg.Reading) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Poller) {
			out = append(out, r.Poller)
		}
	}
	slices.Sort(out)
	return out
}
