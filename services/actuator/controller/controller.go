package controller

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Event reasons, KEDA's names where KEDA has one. The action of every Event is the operation.
const (
	EventReady               = "Ready"
	EventCheckFailed         = "CheckFailed"
	EventActivated           = "KEDAScaleTargetActivated"
	EventDeactivated         = "KEDAScaleTargetDeactivated"
	EventActivationFailed    = "KEDAScaleTargetActivationFailed"
	EventDeactivationFailed  = "KEDAScaleTargetDeactivationFailed"
	EventScalerFailed        = "KEDAScalerFailed"
	EventFallback            = "KEDAScalerFallback"
	EventJobsCreated         = "KEDAJobsCreated"
	EventJobsCreationFailed  = "KEDAJobsCreationFailed"
	EventHPACreated          = "HPACreated"
	EventHPAUpdated          = "HPAUpdated"
	EventHPADeleted          = "HPADeleted"
	EventOriginalRestored    = "KEDAScaleTargetRestored"
	EventPausedReplicasApply = "PausedReplicasApplied"
)

// SpecOrMetaChanged passes every create and delete, and updates that change the spec
// (generation), labels, annotations, finalizers, owners or the deletion timestamp. Status
// updates — ebb's own included — do not wake a reconciler, so status writes cannot loop.
func SpecOrMetaChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return specOrMetaChanged(e.ObjectOld, e.ObjectNew)
	}}
}

func specOrMetaChanged(old, cur client.Object) bool {
	if old == nil || cur == nil {
		return true
	}
	return old.GetGeneration() != cur.GetGeneration() ||
		!maps.Equal(old.GetLabels(), cur.GetLabels()) ||
		!maps.Equal(old.GetAnnotations(), cur.GetAnnotations()) ||
		!slices.Equal(old.GetFinalizers(), cur.GetFinalizers()) ||
		!equality.Semantic.DeepEqual(old.GetOwnerReferences(), cur.GetOwnerReferences()) ||
		!old.GetDeletionTimestamp().Equal(cur.GetDeletionTimestamp())
}
