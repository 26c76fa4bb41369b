package poller

import (
	"hash/fnv"
	"time"
)

// Polls of a trigger happen at fixed slots: phase + k × interval since the Unix epoch, where
// phase comes from a hash of the trigger's key. Triggers with the same interval are spread
// evenly across it, and every replica computes the same slots for a trigger, so a new owner
// carries on the old owner's rhythm.

// phase is key's offset within interval, at millisecond resolution.
func phase(key string, interval time.Duration) time.Duration {
	ms := int64(interval / time.Millisecond)
	if ms <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(h.Sum64()%uint64(ms)) * time.Millisecond
}

// slotAtOrAfter is the first slot at or after t.
func slotAtOrAfter(t time.Time, interval, phase time.Duration) time.Time {
	since := t.UnixNano() - int64(phase)
	k := since / int64(interval) // truncates toward zero: the ceiling for negative since
	if since > 0 && since%int64(interval) != 0 {
		k++
	}
	return time.Unix(0, k*int64(interval)+int64(phase))
}

// slotAtOrBefore is the last slot at or before t.
func slotAtOrBefore(t time.Time, interval, phase time.Duration) time.Time {
	s := slotAtOrAfter(t, interval, phase)
	if s.After(t) {
		s = s.Add(-interval)
	}
	return s
}

// catchUpWindow bounds how long a trigger that missed its slot waits: overdue triggers (a
// replica died, or the poller starts on objects nobody polled) are spread over this window,
// or over their interval when it is shorter, instead of all polling at once.
const catchUpWindow = 2 * time.Second

// firstPoll is when a replica that just took over a trigger polls it first. last is when the
// trigger was last read by anyone (zero if never). If the slot after that read has not passed,
// the next slot keeps the rhythm; otherwise the trigger is overdue and is read within the
// catch-up window, so no trigger waits more than its interval plus the handover.
func firstPoll(now, last time.Time, interval, phase time.Duration) time.Time {
	if !last.IsZero() {
		due := slotAtOrBefore(last, interval, phase).Add(interval)
		if due.After(now) {
			return slotAtOrAfter(now, interval, phase)
		}
	}
	window := min(interval, catchUpWindow)
	return now.Add(time.Duration(float64(phase) / float64(interval) * float64(window)))
}
