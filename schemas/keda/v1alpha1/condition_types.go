package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionType names one of the conditions ebb reports.
type ConditionType string

// Condition types of ScaledObjects and ScaledJobs.
const (
	ConditionReady    ConditionType = "Ready"
	ConditionActive   ConditionType = "Active"
	ConditionFallback ConditionType = "Fallback"
	ConditionPaused   ConditionType = "Paused"
)

// Condition is one observed state, shaped like KEDA's (no lastTransitionTime, no generation).
type Condition struct {
	// +required
	Type ConditionType `json:"type"`
	// +required
	Status metav1.ConditionStatus `json:"status"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// Conditions is the status list.
type Conditions []Condition

// Get returns the condition of type t and whether it is present.
func (c Conditions) Get(t ConditionType) (Condition, bool) {
	for _, cond := range c {
		if cond.Type == t {
			return cond, true
		}
	}
	return Condition{}, false
}

// Set replaces the condition of the same type or appends it, and reports whether anything
// changed so callers write status only on change.
func (c *Conditions) Set(cond Condition) bool {
	for i := range *c {
		if (*c)[i].Type == cond.Type {
			if (*c)[i] == cond {
				return false
			}
			(*c)[i] = cond
			return true
		}
	}
	*c = append(*c, cond)
	return true
}
