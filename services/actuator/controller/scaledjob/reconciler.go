package scaledjob

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/jobs"
	"ebb.dev/services/actuator/status"
)

// Rollout strategies and propagation policies, as spelled in the CRD.
const (
	rolloutGradual        = "gradual"
	propagationForeground = "foreground"
)

// +kubebuilder:rbac:groups=keda.sh,resources=scaledjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=keda.sh,resources=scaledjobs/status,verbs=update
// +kubebuilder:rbac:groups=keda.sh,resources=scaledjobs/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=list;watch;create;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles one ScaledJob at a time.
type Reconciler struct {
	Client  client.Client // reads from the manager's cache; writes go to the API server
	Actions action.Recorder
	Events  events.EventRecorder
}

// SetupWithManager registers the reconciler, woken by ScaledJob spec and metadata changes
// and by every change of the Jobs they own (a Job finishing is what history cleanup waits
// for), with workers reconciles at once.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("scaledjob").
		For(&v1alpha1.ScaledJob{}, builder.WithPredicates(controller.SpecOrMetaChanged())).
		Owns(&batchv1.Job{}).
		WithOptions(ctrlcontroller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// Reconcile rolls out spec changes, trims the Job history and writes the status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	return controller.RequeueOnConflict(ctx, res, err)
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sj v1alpha1.ScaledJob
	if err := r.Client.Get(ctx, req.NamespacedName, &sj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the Jobs it owns are garbage collected
	}
	pause, err := status.ReadPause(sj.Annotations)
	if err != nil {
		problem := &status.Problem{Reason: status.ReasonScaledJobFailed, Message: err.Error()}
		return ctrl.Result{}, errors.Join(reconcile.TerminalError(err), r.writeStatus(ctx, &sj, pause, problem))
	}
	var list batchv1.JobList
	if err := r.Client.List(ctx, &list, client.InNamespace(sj.Namespace), client.MatchingLabels{v1alpha1.ScaledJobNameLabel: sj.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("list Jobs of %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	owned := ownedBy(list.Items, &sj)
	err = errors.Join(r.rollout(ctx, &sj, owned), r.trimHistory(ctx, &sj, owned))
	return ctrl.Result{}, errors.Join(err, r.writeStatus(ctx, &sj, pause, nil))
}

// rollout deletes the running Jobs of an older spec, unless the strategy is gradual.
func (r *Reconciler) rollout(ctx context.Context, sj *v1alpha1.ScaledJob, owned []batchv1.Job) error {
	if strategy(sj) == rolloutGradual {
		return nil
	}
	stale := jobs.Outdated(owned, sj.Generation)
	if len(stale) == 0 {
		return nil
	}
	policy := metav1.DeletePropagationBackground
	if sj.Spec.Rollout.PropagationPolicy == propagationForeground {
		policy = metav1.DeletePropagationForeground
	}
	return r.delete(ctx, sj, stale, policy, "rolled out the new spec")
}

// trimHistory deletes finished Jobs beyond the history limits, oldest first.
func (r *Reconciler) trimHistory(ctx context.Context, sj *v1alpha1.ScaledJob, owned []batchv1.Job) error {
	expired := jobs.Expired(owned, limit(sj.Spec.SuccessfulJobsHistoryLimit), limit(sj.Spec.FailedJobsHistoryLimit))
	if len(expired) == 0 {
		return nil
	}
	return r.delete(ctx, sj, expired, metav1.DeletePropagationBackground, "trimmed the Job history")
}

// delete removes Jobs and reports them as one job-cleanup action from the owned count to
// what is left. A Job already gone counts as deleted.
func (r *Reconciler) delete(ctx context.Context, sj *v1alpha1.ScaledJob, list []batchv1.Job, policy metav1.DeletionPropagation, why string) error {
	var errs []error
	deleted := int32(0)
	for i := range list {
		j := &list[i]
		err := r.Client.Delete(ctx, j, client.PropagationPolicy(policy), client.Preconditions{UID: &j.UID})
		if err = client.IgnoreNotFound(err); err != nil {
			errs = append(errs, fmt.Errorf("delete Job %s/%s: %w", j.Namespace, j.Name, err))
			continue
		}
		deleted++
	}
	err := errors.Join(errs...)
	r.Actions.Record(msg.Action{Object: action.Ref(msg.ScaledJob, sj), Operation: msg.OpJobCleanup,
		From: msg.Count(int32(len(list))), To: msg.Count(int32(len(list)) - deleted)}, err)
	if deleted > 0 {
		r.Events.Eventf(sj, nil, corev1.EventTypeNormal, "JobsDeleted", string(msg.OpJobCleanup), "deleted %d Jobs: %s", deleted, why)
	}
	return err
}

func (r *Reconciler) writeStatus(ctx context.Context, sj *v1alpha1.ScaledJob, p status.Pause, problem *status.Problem) error {
	next := status.ScaledJob(sj.Status, sj, p, problem)
	if equality.Semantic.DeepEqual(sj.Status, next) {
		return nil
	}
	sj.Status = next
	err := r.Client.Status().Update(ctx, sj)
	r.Actions.Record(msg.Action{Object: action.Ref(msg.ScaledJob, sj), Operation: msg.OpStatus}, err)
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	return nil
}

func ownedBy(list []batchv1.Job, sj *v1alpha1.ScaledJob) []batchv1.Job {
	var out []batchv1.Job
	for _, j := range list {
		if owner := metav1.GetControllerOfNoCopy(&j); owner != nil && owner.UID == sj.UID {
			out = append(out, j)
		}
	}
	return out
}

// strategy is rollout.strategy, or the deprecated rolloutStrategy when that is all there is.
func strategy(sj *v1alpha1.ScaledJob) string {
	if sj.Spec.RolloutStrategy != "" && (sj.Spec.Rollout.Strategy == "" || sj.Spec.Rollout.Strategy == "default") {
		return sj.Spec.RolloutStrategy
	}
	return sj.Spec.Rollout.Strategy
}

func limit(p *int32) int32 {
	if p == nil {
		return v1alpha1.DefaultJobsHistoryLimit
	}
	return *p
}
