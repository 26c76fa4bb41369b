package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Condition reasons; the names are KEDA's where KEDA has one.
const (
	ReasonScaledObjectReady   = "ScaledObjectReady"
	ReasonScaledJobReady      = "ScaledJobReady"
	ReasonCheckFailed         = "ScaledObjectCheckFailed" // the spec cannot be acted on
	ReasonScaledJobFailed     = "ScaledJobCheckFailed"
	ReasonTargetNotFound      = "ScaleTargetNotFound" // no such target, or it has no /scale
	ReasonHPAOwnedByOther     = "HPAOwnershipConflict"
	ReasonActive              = "ScalerActive"
	ReasonNotActive           = "ScalerNotActive"
	ReasonFallback            = "FallbackExists"
	ReasonNoFallback          = "NoFallbackFound"
	ReasonScaledObjectPaused  = "ScaledObjectPaused"
	ReasonScaledObjectRunning = "ScaledObjectUnpaused"
	ReasonScaledJobPaused     = "ScaledJobPaused"
	ReasonScaledJobRunning    = "ScaledJobUnpaused"
	reasonUnknown             = "Unknown"
)

// Problem is why an object is not Ready; nil means it is.
type Problem struct {
	Reason  string
	Message string
}

func ready(ok, failed string, p *Problem) v1alpha1.Condition {
	if p != nil {
		return v1alpha1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: p.Reason, Message: p.Message}
	}
	return v1alpha1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ok, Message: "ready for scaling"}
}

func active(on bool) v1alpha1.Condition {
	if on {
		return v1alpha1.Condition{Type: v1alpha1.ConditionActive, Status: metav1.ConditionTrue, Reason: ReasonActive, Message: "scaling is performed because triggers are active"}
	}
	return v1alpha1.Condition{Type: v1alpha1.ConditionActive, Status: metav1.ConditionFalse, Reason: ReasonNotActive, Message: "scaling is not performed because triggers are not active"}
}

func fallback(on bool) v1alpha1.Condition {
	if on {
		return v1alpha1.Condition{Type: v1alpha1.ConditionFallback, Status: metav1.ConditionTrue, Reason: ReasonFallback, Message: "at least one trigger is falling back"}
	}
	return v1alpha1.Condition{Type: v1alpha1.ConditionFallback, Status: metav1.ConditionFalse, Reason: ReasonNoFallback, Message: "no trigger is falling back"}
}

func paused(p Pause, on, off string) v1alpha1.Condition {
	if !p.Paused() {
		return v1alpha1.Condition{Type: v1alpha1.ConditionPaused, Status: metav1.ConditionFalse, Reason: off, Message: "not paused"}
	}
	msg := "paused at the current replica count"
	if p.Replicas != nil {
		msg = "paused at " + itoa(*p.Replicas) + " replicas"
	}
	return v1alpha1.Condition{Type: v1alpha1.ConditionPaused, Status: metav1.ConditionTrue, Reason: on, Message: msg}
}

// initialize adds the conditions ebb reports, as Unknown, where they are missing, so every
// object shows all four in a stable order.
func initialize(c v1alpha1.Conditions) v1alpha1.Conditions {
	out := append(v1alpha1.Conditions(nil), c...)
	for _, t := range []v1alpha1.ConditionType{v1alpha1.ConditionReady, v1alpha1.ConditionActive, v1alpha1.ConditionFallback, v1alpha1.ConditionPaused} {
		if _, ok := out.Get(t); !ok {
			out.Set(v1alpha1.Condition{Type: t, Status: metav1.ConditionUnknown, Reason: reasonUnknown})
		}
	}
	return out
}

// Became reports whether condition t has status s in after but not in before.
func Became(before, after v1alpha1.Conditions, t v1alpha1.ConditionType, s metav1.ConditionStatus) bool {
	b, _ := before.Get(t)
	a, ok := after.Get(t)
	return ok && a.Status == s && b.Status != s
}
