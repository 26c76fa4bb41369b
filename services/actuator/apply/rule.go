package apply

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// NeedsScaleWrite reports whether the actuator writes the scale subresource to move a target
// from current to desired replicas on a decision with the given reason. From max(min, 1) up to
// max the HPA owns the count, so the actuator crosses that floor (0 → N to activate, N → 0 or
// idle to deactivate, below the minimum → the minimum) and, on a fast-path decision, only ever
// raises the count: the HPA computes the same count from the same metrics and keeps it, while
// a count the HPA has already passed is left alone. Scale-down inside the range stays the HPA's.
func NeedsScaleWrite(current, desired, minReplicas int32, reason msg.Reason) bool {
	if reason == msg.ReasonFastPath && desired > current {
		return true
	}
	floor := max(minReplicas, 1)
	return desired != current && (current < floor || desired < floor)
}

// mayNeedScaleWrite reports whether the target's scale must be read at all: it must when the
// rule asks for a write from the decision's view of the replicas or from the last count the
// applier saw. Skipping the read otherwise keeps steady state free of API requests; a
// target changed behind both views is corrected once the decider sees the change.
func mayNeedScaleWrite(d msg.Decision, known *int32, minReplicas int32) bool {
	if NeedsScaleWrite(d.CurrentReplicas, d.DesiredReplicas, minReplicas, d.Reason) {
		return true
	}
	return known != nil && NeedsScaleWrite(*known, d.DesiredReplicas, minReplicas, d.Reason)
}

// verdict is what to do with a decision.
type verdict int

const (
	apply verdict = iota
	skip          // never: the decision is stale or does not apply
	wait          // not yet: the cache has not seen the generation the decider read
)

func (v verdict) String() string { return [...]string{"apply", "skip", "wait"}[v] }

// Decisions older than this, or than maxAgeIntervals polling intervals when that is longer,
// are dropped: a newer one is due, and an old one must not be replayed after an outage.
const (
	minDecisionAge  = 30 * time.Second
	maxAgeIntervals = 3
)

// judge decides what to do with d for obj as the cache has it, at now, and why.
func judge(d msg.Decision, obj metav1.Object, paused bool, now time.Time) (verdict, string) {
	switch {
	case d.Object.UID != "" && d.Object.UID != string(obj.GetUID()):
		return skip, "decision is for an earlier object of the same name"
	case !obj.GetDeletionTimestamp().IsZero():
		return skip, "object is being deleted"
	case paused || d.Reason == msg.ReasonPaused:
		return skip, "object is paused"
	case d.Object.Generation < obj.GetGeneration():
		return skip, "decision is for an older generation"
	case now.Sub(d.DecidedAt) > maxAge(d):
		return skip, "decision has expired"
	case d.Object.Generation > obj.GetGeneration():
		return wait, "cache is behind the decision's generation"
	}
	return apply, ""
}

func maxAge(d msg.Decision) time.Duration {
	interval := time.Duration(d.PollingInterval) * time.Second
	if interval <= 0 {
		interval = time.Duration(v1alpha1.DefaultPollingInterval) * time.Second
	}
	return max(maxAgeIntervals*interval, minDecisionAge)
}
