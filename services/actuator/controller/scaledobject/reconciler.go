package scaledobject

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/hpa"
	"ebb.dev/services/actuator/status"
	"ebb.dev/services/actuator/target"
)

// Finalizer keeps a deleted ScaledObject until its HPA is gone and its target restored; the
// name is KEDA's, so objects KEDA managed are finalized the same way.
const Finalizer = "finalizer.keda.sh"

// retryLater is when a ScaledObject waiting on something ebb does not watch (a missing scale
// target, a foreign HPA) is looked at again.
const retryLater = 30 * time.Second

// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects/status,verbs=update
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects/finalizers,verbs=update
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=list;watch;create;update;delete
// +kubebuilder:rbac:groups=*,resources=*/scale,verbs=get;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles one ScaledObject at a time.
type Reconciler struct {
	Client   client.Client // reads from the manager's cache; writes go to the API server
	Targets  *target.Resolver
	Triggers *trigger.Registry
	Actions  action.Recorder
	Events   events.EventRecorder
	// SkipHPA leaves HPAs alone (benchmarks without kube-controller-manager only).
	SkipHPA bool
}

// SetupWithManager registers the reconciler, woken by spec and metadata changes of
// ScaledObjects and of the HPAs they own, with workers reconciles at once.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("scaledobject").
		For(&v1alpha1.ScaledObject{}, builder.WithPredicates(controller.SpecOrMetaChanged())).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}, builder.WithPredicates(controller.SpecOrMetaChanged())).
		WithOptions(ctrlcontroller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// Reconcile brings one ScaledObject's HPA, pause state and status in line with its spec.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	return controller.RequeueOnConflict(ctx, res, err)
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var so v1alpha1.ScaledObject
	if err := r.Client.Get(ctx, req.NamespacedName, &so); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !so.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &so)
	}
	if err := r.claim(ctx, &so); err != nil {
		return ctrl.Result{}, err
	}
	facts, res, err := r.sync(ctx, &so)
	if facts == nil {
		return res, err
	}
	return res, errors.Join(err, r.writeStatus(ctx, &so, *facts))
}

// claim puts the finalizer and the scaledobject.keda.sh/name label on so, in one patch that
// fails rather than overwrite a concurrent change.
func (r *Reconciler) claim(ctx context.Context, so *v1alpha1.ScaledObject) error {
	if controllerutil.ContainsFinalizer(so, Finalizer) && so.Labels[v1alpha1.ScaledObjectNameLabel] == so.Name {
		return nil
	}
	patch := client.MergeFromWithOptions(so.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(so, Finalizer)
	if so.Labels == nil {
		so.Labels = map[string]string{}
	}
	so.Labels[v1alpha1.ScaledObjectNameLabel] = so.Name
	if err := r.Client.Patch(ctx, so, patch); err != nil {
		return fmt.Errorf("add finalizer and label to %s/%s: %w", so.Namespace, so.Name, err)
	}
	return nil
}

// sync resolves the target and applies the HPA or the pause. It returns the facts for the
// status, or nil facts when a transient error leaves nothing new to report.
func (r *Reconciler) sync(ctx context.Context, so *v1alpha1.ScaledObject) (*status.Facts, ctrl.Result, error) {
	f := &status.Facts{}
	pause, err := status.ReadPause(so.Annotations)
	if err != nil {
		f.Problem = &status.Problem{Reason: status.ReasonCheckFailed, Message: err.Error()}
		return f, ctrl.Result{}, reconcile.TerminalError(err)
	}
	f.Pause = pause
	desired, err := hpa.Desired(so, r.Triggers)
	if err != nil {
		f.Problem = &status.Problem{Reason: status.ReasonCheckFailed, Message: err.Error()}
		return f, ctrl.Result{}, reconcile.TerminalError(err)
	}
	f.HPA = desired
	if pause.Paused() {
		// Nothing may scale a paused target, whether or not it can be found.
		if err := r.deleteHPAs(ctx, so, ""); err != nil {
			return nil, ctrl.Result{}, err
		}
	}
	t, err := r.Targets.Resolve(so)
	var replicas int32
	if err == nil {
		replicas, err = r.Targets.Replicas(ctx, t)
	}
	if target.IsNotFound(err) {
		f.Problem = &status.Problem{Reason: status.ReasonTargetNotFound, Message: err.Error()}
		return f, ctrl.Result{RequeueAfter: retryLater}, nil
	}
	if err != nil {
		return nil, ctrl.Result{}, err
	}
	f.Target, f.Replicas = &t.GVKR, &replicas
	if pause.Replicas != nil {
		return f, ctrl.Result{}, r.scaleTo(ctx, so, t, *pause.Replicas, controller.EventPausedReplicasApply)
	}
	if pause.Hold || r.SkipHPA {
		return f, ctrl.Result{}, nil
	}
	if err := r.deleteHPAs(ctx, so, desired.Name); err != nil {
		return nil, ctrl.Result{}, err
	}
	f.Problem, err = r.ensureHPA(ctx, so, desired)
	if err != nil {
		return nil, ctrl.Result{}, err
	}
	if f.Problem != nil {
		return f, ctrl.Result{RequeueAfter: retryLater}, nil
	}
	return f, ctrl.Result{}, nil
}

// ensureHPA creates the HPA, or updates it when it differs from desired. An existing HPA
// that so does not control is adopted only with the transfer annotation; otherwise it is
// reported as a problem and left alone.
func (r *Reconciler) ensureHPA(ctx context.Context, so *v1alpha1.ScaledObject, desired *autoscalingv2.HorizontalPodAutoscaler) (*status.Problem, error) {
	var cur autoscalingv2.HorizontalPodAutoscaler
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), &cur)
	if apierrors.IsNotFound(err) {
		err = r.Client.Create(ctx, desired)
		r.record(so, msg.OpHPACreate, nil, msg.Count(desired.Spec.MaxReplicas), err)
		if err != nil {
			return nil, fmt.Errorf("create HPA %s/%s: %w", desired.Namespace, desired.Name, err)
		}
		r.Events.Eventf(so, desired, corev1.EventTypeNormal, controller.EventHPACreated, string(msg.OpHPACreate), "created HPA %s", desired.Name)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get HPA %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	if owner := metav1.GetControllerOfNoCopy(&cur); (owner == nil || owner.UID != so.UID) && so.Annotations[v1alpha1.TransferHPAOwnershipAnnotation] != "true" {
		return &status.Problem{Reason: status.ReasonHPAOwnedByOther, Message: fmt.Sprintf(
			"HPA %s exists and is not owned by this ScaledObject; set the annotation %s: \"true\" to adopt it",
			cur.Name, v1alpha1.TransferHPAOwnershipAnnotation)}, nil
	}
	if !hpa.Differs(&cur, desired) {
		return nil, nil
	}
	err = r.Client.Update(ctx, hpa.Merge(&cur, desired))
	r.record(so, msg.OpHPAUpdate, msg.Count(cur.Spec.MaxReplicas), msg.Count(desired.Spec.MaxReplicas), err)
	if err != nil {
		return nil, fmt.Errorf("update HPA %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	r.Events.Eventf(so, &cur, corev1.EventTypeNormal, controller.EventHPAUpdated, string(msg.OpHPAUpdate), "updated HPA %s", cur.Name)
	return nil, nil
}

// deleteHPAs deletes the HPAs so controls, except the one named keep.
func (r *Reconciler) deleteHPAs(ctx context.Context, so *v1alpha1.ScaledObject, keep string) error {
	var list autoscalingv2.HorizontalPodAutoscalerList
	if err := r.Client.List(ctx, &list, client.InNamespace(so.Namespace), client.MatchingLabels{v1alpha1.ScaledObjectNameLabel: so.Name}); err != nil {
		return fmt.Errorf("list HPAs of %s/%s: %w", so.Namespace, so.Name, err)
	}
	for i := range list.Items {
		h := &list.Items[i]
		if owner := metav1.GetControllerOfNoCopy(h); h.Name == keep || owner == nil || owner.UID != so.UID {
			continue
		}
		err := client.IgnoreNotFound(r.Client.Delete(ctx, h, client.Preconditions{UID: &h.UID}))
		r.record(so, msg.OpHPADelete, msg.Count(h.Spec.MaxReplicas), nil, err)
		if err != nil {
			return fmt.Errorf("delete HPA %s/%s: %w", h.Namespace, h.Name, err)
		}
		r.Events.Eventf(so, h, corev1.EventTypeNormal, controller.EventHPADeleted, string(msg.OpHPADelete), "deleted HPA %s", h.Name)
	}
	return nil
}

// scaleTo writes n replicas to the target unless it already has them.
func (r *Reconciler) scaleTo(ctx context.Context, so *v1alpha1.ScaledObject, t target.Ref, n int32, reason string) error {
	m, err := r.Targets.Scale(ctx, t, func(int32) (int32, bool) { return n, true })
	if !m.Wrote && err == nil {
		return nil
	}
	r.record(so, msg.OpScale, msg.Count(m.From), msg.Count(n), err)
	if err != nil {
		return err
	}
	r.Events.Eventf(so, nil, corev1.EventTypeNormal, reason, string(msg.OpScale), "scaled %s from %d to %d", t, m.From, n)
	return nil
}

// finalize deletes the HPA, restores the target's original replicas when asked to, and
// then releases the ScaledObject.
func (r *Reconciler) finalize(ctx context.Context, so *v1alpha1.ScaledObject) error {
	if !controllerutil.ContainsFinalizer(so, Finalizer) {
		return nil
	}
	if err := r.deleteHPAs(ctx, so, ""); err != nil {
		return err
	}
	if t, n, ok := restoreTarget(so); ok {
		if err := r.scaleTo(ctx, so, t, n, controller.EventOriginalRestored); err != nil && !target.IsNotFound(err) {
			return err
		}
	}
	patch := client.MergeFromWithOptions(so.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(so, Finalizer)
	if err := client.IgnoreNotFound(r.Client.Patch(ctx, so, patch)); err != nil {
		return fmt.Errorf("remove finalizer from %s/%s: %w", so.Namespace, so.Name, err)
	}
	return nil
}

// restoreTarget is where and to what count a deleted ScaledObject's target goes back, when
// restoreToOriginalReplicaCount is set and the original count was recorded.
func restoreTarget(so *v1alpha1.ScaledObject) (target.Ref, int32, bool) {
	st := so.Status
	if so.Spec.Advanced == nil || !so.Spec.Advanced.RestoreToOriginalReplicaCount ||
		st.OriginalReplicaCount == nil || st.ScaleTargetGVKR == nil || so.Spec.ScaleTargetRef == nil {
		return target.Ref{}, 0, false
	}
	return target.Ref{Namespace: so.Namespace, Name: so.Spec.ScaleTargetRef.Name, GVKR: *st.ScaleTargetGVKR}, *st.OriginalReplicaCount, true
}

// writeStatus writes the status that follows from f, only when it differs from what so has.
// The update carries so's resourceVersion: if the decision applier wrote in between, it
// conflicts and the reconcile runs again on fresh data.
func (r *Reconciler) writeStatus(ctx context.Context, so *v1alpha1.ScaledObject, f status.Facts) error {
	next := status.ScaledObject(so.Status, so, f)
	if equality.Semantic.DeepEqual(so.Status, next) {
		return nil
	}
	before := so.Status.Conditions
	so.Status = next
	err := r.Client.Status().Update(ctx, so)
	r.record(so, msg.OpStatus, nil, nil, err)
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", so.Namespace, so.Name, err)
	}
	log.FromContext(ctx).V(1).Info("status written")
	if status.Became(before, next.Conditions, v1alpha1.ConditionReady, metav1.ConditionFalse) {
		r.Events.Eventf(so, nil, corev1.EventTypeWarning, controller.EventCheckFailed, string(msg.OpStatus), "%s", f.Problem.Message)
	}
	if status.Became(before, next.Conditions, v1alpha1.ConditionReady, metav1.ConditionTrue) {
		r.Events.Eventf(so, nil, corev1.EventTypeNormal, controller.EventReady, string(msg.OpStatus), "ScaledObject is ready for scaling")
	}
	return nil
}

func (r *Reconciler) record(so *v1alpha1.ScaledObject, op msg.Operation, from, to *int32, err error) {
	r.Actions.Record(msg.Action{Object: action.Ref(msg.ScaledObject, so), Operation: op, From: from, To: to}, err)
}
