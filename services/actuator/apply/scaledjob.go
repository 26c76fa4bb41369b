package apply

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/jobs"
	"ebb.dev/services/actuator/status"
)

// scaledJob applies d: the Jobs it asks for, then the status.
func (a *Applier) scaledJob(ctx context.Context, nn types.NamespacedName, d msg.Decision, m memo) (memo, error) {
	var sj v1alpha1.ScaledJob
	if err := a.get(ctx, nn, &sj); err != nil {
		return m, err
	}
	pause, err := status.ReadPause(sj.Annotations)
	switch v, why := judge(d, &sj, err != nil || pause.Paused(), a.clock.Now()); v {
	case skip:
		a.Logger.Debug("decision skipped", "namespace", nn.Namespace, "scaledJob", nn.Name, "why", why)
		return m, nil
	case wait:
		return m, fmt.Errorf("%s: %w", why, errWait)
	}
	if d.Jobs != nil && d.Jobs.Create > 0 {
		if err := a.createJobs(ctx, &sj, d); err != nil {
			return m, err
		}
	}
	if d.Active {
		m.lastActive = d.DecidedAt
	}
	return m, a.writeJobStatus(ctx, &sj, d, m)
}

// createJobs creates the Jobs d asks for, counted against the ScaledJob's Jobs as the API
// server has them now (see jobsToCreate): every Job carries its decision's tag, so a repeated
// decision, a retry or a new leader never creates a Job twice, and a decision made before an
// earlier one's Jobs existed does not create them again.
func (a *Applier) createJobs(ctx context.Context, sj *v1alpha1.ScaledJob, d msg.Decision) error {
	tag := jobs.DecisionTag(d.DecidedAt)
	var list batchv1.JobList
	if err := a.Reader.List(ctx, &list, client.InNamespace(sj.Namespace), client.MatchingLabels{v1alpha1.ScaledJobNameLabel: sj.Name}); err != nil {
		return fmt.Errorf("list Jobs of %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	var have, running int32
	for i := range list.Items {
		j := &list.Items[i]
		if owner := metav1.GetControllerOfNoCopy(j); owner == nil || owner.UID != sj.UID {
			continue
		}
		if j.Labels[jobs.DecisionLabel] == tag {
			have++
		}
		if jobs.StateOf(j) == jobs.Running {
			running++
		}
	}
	var errs []error
	created := int32(0)
	for range jobsToCreate(*d.Jobs, have, running) {
		if err := a.Client.Create(ctx, jobs.New(sj, tag)); err != nil {
			errs = append(errs, fmt.Errorf("create Job for %s/%s: %w", sj.Namespace, sj.Name, err))
			break
		}
		created++
	}
	err := errors.Join(errs...)
	if created == 0 && err == nil {
		return nil
	}
	a.record(action.Ref(msg.ScaledJob, sj), d, msg.OpJobCreate, msg.Count(running), msg.Count(running+created), err)
	if created > 0 {
		a.Events.Eventf(sj, nil, corev1.EventTypeNormal, controller.EventJobsCreated, string(msg.OpJobCreate), "created %d Jobs", created)
	}
	if err != nil {
		a.Events.Eventf(sj, nil, corev1.EventTypeWarning, controller.EventJobsCreationFailed, string(msg.OpJobCreate), "%v", err)
	}
	return err
}

// jobsToCreate is how many Jobs applying a decision creates: what it asks for less the have
// Jobs an earlier attempt at it created, and no more than brings the Jobs running now up to
// the count the decision meant to reach (its Running plus its Create). The decider counts
// running Jobs from its cache when it decides; a decision made before an earlier decision's
// Jobs appeared there, and applied after them (a busy actuator, a new leader), would
// otherwise create the same Jobs a second time.
func jobsToCreate(d msg.Jobs, have, running int32) int32 {
	return max(0, min(d.Create-have, d.Running+d.Create-running))
}

// writeJobStatus records activity when it changes.
func (a *Applier) writeJobStatus(ctx context.Context, sj *v1alpha1.ScaledJob, d msg.Decision, m memo) error {
	activity := status.ActivityOf(d, m.lastActive, a.cfg.LastActiveResolution)
	cur := sj.DeepCopy()
	wrote, err := a.updateStatus(ctx, cur, func() bool {
		next := status.JobDecided(cur.Status, activity)
		changed := !equality.Semantic.DeepEqual(cur.Status, next)
		cur.Status = next
		return changed
	})
	if !wrote {
		return err
	}
	a.record(action.Ref(msg.ScaledJob, sj), d, msg.OpStatus, nil, nil, err)
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	return nil
}
