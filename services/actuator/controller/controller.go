package controller

import (
	"context"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
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

// conflictRetry is how soon a reconcile that lost a write race runs again.
const conflictRetry = 250 * time.Millisecond

// RequeueOnConflict turns a lost optimistic-concurrency race (most often: the cache had not yet
// seen ebb's own previous write) into a quiet, prompt retry on fresh data; other errors pass.
func RequeueOnConflict(ctx context.Context, res ctrl.Result, err error) (ctrl.Result, error) {
	if err != nil && apierrors.IsConflict(err) {
		log.FromContext(ctx).V(1).Info("write conflicted, reconciling again", "error", err)
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return res, err
}
