package poller_test

import (
	"testing"
	"time"

	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller/pollertest"
)

// wakingTrigger runs one replica over a Waker source, polling queue "orders" (value v) every
// 30 s, and returns once the trigger's first reading is in and its wake-ups run.
func wakingTrigger(t *testing.T, v float64) (*env, *pollertest.Source, string) {
	t.Helper()
	e := newEnv(t)
	src := e.queues.source()
	src.Waking = true
	e.queues.set("orders", v)
	p := e.startWith(t, "p0", src)
	p.Set(t.Context(), scaledObject("app", 1, 30, rabbit("orders")))
	k := key("app", msg.ScaledObject, 0)
	e.rec.Wait(t, "the first reading", 5*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) > 0 })
	waitFor(t, "wake-ups started", 2*time.Second, func() bool { return src.Wakes() == 1 })
	return e, src, k
}

// waitFor polls cond every few milliseconds, failing t after within.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWakeUpPollsAtOnceOutsideTheSchedule(t *testing.T) {
	e, src, k := wakingTrigger(t, 1)
	first, _ := e.rec.Last(k)
	waitFor(t, "the debounce gap after the first poll", time.Second, func() bool { return time.Since(first.ObservedAt) > 150*time.Millisecond })

	e.queues.set("orders", 9)
	pushed := time.Now()
	src.Fire()
	e.rec.Wait(t, "a reading of the new value well before the next slot (30 s)", time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k)
		return r.Value == 9
	})
	r, _ := e.rec.Last(k)
	t.Logf("wake-up to reading: %v", r.ObservedAt.Sub(pushed))
	if n := len(e.rec.Readings(k)); n != 2 {
		t.Errorf("%d readings, want 2: the first and the one the wake-up brought", n)
	}
}

func TestWakeUpsAreDebounced(t *testing.T) {
	e, src, k := wakingTrigger(t, 0)
	reads0, start := src.Reads.Load(), time.Now()
	for i := range 1000 {
		e.queues.set("orders", float64(i))
		src.Fire()
		time.Sleep(time.Millisecond)
	}
	e.queues.set("orders", 1000)
	src.Fire()
	e.rec.Wait(t, "a reading of the value the last wake-up announced", time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k)
		return r.Value == 1000
	})
	elapsed, extra := time.Since(start), src.Reads.Load()-reads0
	// One extra poll per 100 ms at most, the first at once; no slot falls in the burst.
	if most := int64(elapsed/(100*time.Millisecond)) + 1; extra > most {
		t.Errorf("1,001 wake-ups over %v brought %d polls, want at most %d", elapsed, extra, most)
	}
	if extra < 5 {
		t.Errorf("1,001 wake-ups over %v brought only %d polls: the wake-ups did not poll", elapsed, extra)
	}
	t.Logf("1,001 wake-ups over %v: %d extra polls", elapsed, extra)
}

func TestWakeUpsFollowTheTrigger(t *testing.T) {
	e := newEnv(t)
	src := e.queues.source()
	src.Waking = true
	e.queues.set("a", 1)
	e.queues.set("b", 2)
	p := e.startWith(t, "p0", src)
	p.Set(t.Context(), scaledObject("app", 1, 30, rabbit("a"), rabbit("a")))
	waitFor(t, "wake-ups of both triggers, before their first poll", 2*time.Second, func() bool { return src.Wakes() == 2 })

	k0 := key("app", msg.ScaledObject, 0)
	p.Set(t.Context(), scaledObject("app", 2, 30, rabbit("b"), rabbit("a")))
	src.Fire() // the poll it brings builds trigger 0's scaler anew
	e.rec.Wait(t, "a reading of the changed trigger", 2*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k0)
		return r.Object.Generation == 2 && r.Value == 2
	})
	waitFor(t, "the new scaler's wake-ups replacing the old one's", 2*time.Second, func() bool { return src.Wakes() == 2 && src.Closes.Load() >= 1 })

	p.Set(t.Context(), scaledObject("app", 3, 30, rabbit("b")))
	waitFor(t, "the removed trigger's wake-ups stopped", 2*time.Second, func() bool { return src.Wakes() == 1 })
	p.Delete(scaledObject("app", 3, 30))
	waitFor(t, "every wake-up stopped", 2*time.Second, func() bool { return src.Wakes() == 0 })
}
