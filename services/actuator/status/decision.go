package status

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// Activity is what a decision says about an object's activity, for both kinds.
type Activity struct {
	Active bool
	// LastActive is when the object was last seen active: the decision's time when it is
	// active, otherwise the time of the last active decision the applier saw (zero if none).
	LastActive time.Time
	// Resolution bounds how often lastActiveTime is rewritten while the object stays active;
	// it is always written when the Active condition changes. Writing it on every poll is
	// what starves a busy API server.
	Resolution time.Duration
}

// ActivityOf is the Activity of d given the last active decision seen before it.
func ActivityOf(d msg.Decision, lastActive time.Time, resolution time.Duration) Activity {
	if d.Active {
		lastActive = d.DecidedAt
	}
	return Activity{Active: d.Active, LastActive: lastActive, Resolution: resolution}
}

// Decided returns st updated with what the decision applier owns: the Active and Fallback
// conditions, lastActiveTime, per-metric health and per-trigger activity.
func Decided(st v1alpha1.ScaledObjectStatus, d msg.Decision, a Activity) v1alpha1.ScaledObjectStatus {
	st = *st.DeepCopy()
	st.Conditions = initialize(st.Conditions)
	st.LastActiveTime = lastActive(st.LastActiveTime, st.Conditions, a)
	st.Conditions.Set(active(a.Active))
	st.Conditions.Set(fallback(fallingBack(d.Metrics)))
	if len(d.Metrics) > 0 {
		st.Health = health(d.Metrics)
	}
	if len(d.Inputs) > 0 {
		st.TriggersActivity = make(map[string]v1alpha1.TriggerActivityStatus, len(d.Inputs))
		for _, r := range d.Inputs {
			st.TriggersActivity[r.Trigger.MetricName] = v1alpha1.TriggerActivityStatus{IsActive: r.Active}
		}
	}
	return st
}

// JobDecided returns a ScaledJob's st updated with the Active condition and lastActiveTime.
func JobDecided(st v1alpha1.ScaledJobStatus, a Activity) v1alpha1.ScaledJobStatus {
	st = *st.DeepCopy()
	st.Conditions = initialize(st.Conditions)
	st.LastActiveTime = lastActive(st.LastActiveTime, st.Conditions, a)
	st.Conditions.Set(active(a.Active))
	return st
}

// lastActive is the lastActiveTime to record: seconds only (what the API keeps), moved
// forward when the Active condition changes or when it has fallen Resolution behind.
func lastActive(recorded *metav1.Time, conds v1alpha1.Conditions, a Activity) *metav1.Time {
	if a.LastActive.IsZero() {
		return recorded
	}
	at := a.LastActive.Truncate(time.Second)
	if recorded == nil {
		return &metav1.Time{Time: at}
	}
	if !at.After(recorded.Time) {
		return recorded
	}
	cur, _ := conds.Get(v1alpha1.ConditionActive)
	flipped := (cur.Status == metav1.ConditionTrue) != a.Active
	if flipped || at.Sub(recorded.Time) >= a.Resolution {
		return &metav1.Time{Time: at}
	}
	return recorded
}

func health(metrics []msg.MetricValue) map[string]v1alpha1.HealthStatus {
	h := make(map[string]v1alpha1.HealthStatus, len(metrics))
	for _, m := range metrics {
		s := v1alpha1.HealthStatusHappy
		if m.Failures > 0 || m.Error != "" {
			s = v1alpha1.HealthStatusFailing
		}
		h[m.Name] = v1alpha1.HealthStatus{NumberOfFailures: new(m.Failures), Status: s}
	}
	return h
}

func fallingBack(metrics []msg.MetricValue) bool {
	for _, m := range metrics {
		if m.Fallback {
			return true
		}
	}
	return false
}

// NewlyFailing lists the metrics whose health is Failing in after but was not in before.
func NewlyFailing(before, after map[string]v1alpha1.HealthStatus) []string {
	var names []string
	for name, h := range after {
		if h.Status == v1alpha1.HealthStatusFailing && before[name].Status != v1alpha1.HealthStatusFailing {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
