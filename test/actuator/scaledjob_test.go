package actuator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/jobs"
)

func TestScaledJob(t *testing.T) {
	e := start(t, true)
	stop := e.runActuator(t, e.config("first"))
	ns := e.namespace(t, "jobs")
	sj := &v1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Name: "resize", Namespace: ns},
		Spec: v1alpha1.ScaledJobSpec{
			JobTargetRef: &batchv1.JobSpec{BackoffLimit: new(int32(0)), Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "resize:1"}}},
			}},
			SuccessfulJobsHistoryLimit: new(int32(1)),
			FailedJobsHistoryLimit:     new(int32(1)),
			Triggers:                   []v1alpha1.ScaleTriggers{rabbitTrigger()},
		},
	}
	e.create(t, sj)
	e.jobCondition(t, sj, v1alpha1.ConditionReady, metav1.ConditionTrue)

	first := e.decide(t, sj, msg.ScaledJob, createJobs(0, 3))
	created := e.jobs(t, sj, 3)
	for _, j := range created {
		owner := metav1.GetControllerOf(&j)
		if !strings.HasPrefix(j.Name, "resize-") || j.Labels[v1alpha1.ScaledJobNameLabel] != "resize" ||
			j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure || owner == nil || owner.UID != sj.UID {
			t.Errorf("Job %s: labels %v, restartPolicy %s, owner %v: want resize-*, scaledjob.keda.sh/name=resize, OnFailure, the ScaledJob",
				j.Name, j.Labels, j.Spec.Template.Spec.RestartPolicy, owner)
		}
	}
	e.actions.wait(t, sj, msg.OpJobCreate, scaled(0, 3))
	e.event(t, sj, controller.EventJobsCreated)
	e.jobCondition(t, sj, v1alpha1.ConditionActive, metav1.ConditionTrue)

	// The same decision again, then a new leader that replays it from the bus: no Job twice.
	e.publish(t, first)
	stop()
	e.runActuator(t, e.config("second"))
	e.decide(t, sj, msg.ScaledJob, createJobs(3, 1))
	all := e.jobs(t, sj, 4)
	if n := len(e.actions.match(ns, sj.Name, msg.OpJobCreate)); n != 2 {
		t.Errorf("%d job-create actions, want 2 (one per distinct decision)", n)
	}

	// History: one successful and one failed Job are kept, the oldest go first.
	e.finish(t, all[0], corev1.PodSucceeded)
	e.finish(t, all[1], corev1.PodSucceeded)
	e.gone(t, &all[0])
	e.finish(t, all[2], corev1.PodFailed)
	e.finish(t, all[3], corev1.PodFailed)
	e.gone(t, &all[2])
	e.actions.wait(t, sj, msg.OpJobCleanup, func(a msg.Action) bool { return ok(a) && *a.From == 1 && *a.To == 0 })
	if left := e.jobs(t, sj, 2); left[0].Name != all[1].Name || left[1].Name != all[3].Name {
		t.Errorf("kept %s and %s, want the newest successful %s and failed %s", left[0].Name, left[1].Name, all[1].Name, all[3].Name)
	}

	// Rollout: a spec change deletes running Jobs of the old spec, unless gradual.
	e.decide(t, sj, msg.ScaledJob, createJobs(0, 2))
	e.jobs(t, sj, 4)
	e.update(t, sj, func() { sj.Spec.JobTargetRef.Template.Spec.Containers[0].Image = "resize:2" })
	e.jobs(t, sj, 2)
	e.update(t, sj, func() { sj.Spec.Rollout.Strategy = "gradual" })
	e.decide(t, sj, msg.ScaledJob, createJobs(0, 1))
	e.jobs(t, sj, 3)
	e.update(t, sj, func() { sj.Spec.JobTargetRef.Template.Spec.Containers[0].Image = "resize:3" })
	e.never(t, "a gradual rollout deleted a running Job", 2*time.Second, func(ctx context.Context) bool {
		list, err := e.listJobs(ctx, sj)
		return err == nil && len(list) != 3
	})
}

// createJobs makes a decision to create n Jobs next to the running ones, as the decider
// counted them.
func createJobs(running, n int32) func(*msg.Decision) {
	return func(d *msg.Decision) {
		d.Reason, d.Active, d.Jobs = msg.ReasonJobs, true, &msg.Jobs{Running: running, Create: n}
	}
}

func (e *env) listJobs(ctx context.Context, sj *v1alpha1.ScaledJob) ([]batchv1.Job, error) {
	var list batchv1.JobList
	err := e.client.List(ctx, &list, client.InNamespace(sj.Namespace), client.MatchingLabels{v1alpha1.ScaledJobNameLabel: sj.Name})
	slices.SortFunc(list.Items, func(a, b batchv1.Job) int {
		return strings.Compare(a.Labels[jobs.DecisionLabel]+a.Name, b.Labels[jobs.DecisionLabel]+b.Name)
	})
	return list.Items, err
}

// jobs waits until sj has exactly n Jobs and returns them, oldest decision first.
func (e *env) jobs(t *testing.T, sj *v1alpha1.ScaledJob, n int) []batchv1.Job {
	t.Helper()
	var got []batchv1.Job
	eventually(t, fmt.Sprintf("%d Jobs of %s", n, sj.Name), 20*time.Second, func(ctx context.Context) (bool, error) {
		list, err := e.listJobs(ctx, sj)
		got = list
		return err == nil && len(list) == n, err
	})
	return got
}

// finish ends a Job as a kubelet would: its pod's phase is set through the status
// subresource, and the job controller marks the Job Complete or Failed. It returns once the
// Job is marked and the clock has moved past that second, so the next Job finishes later.
func (e *env) finish(t *testing.T, j batchv1.Job, phase corev1.PodPhase) {
	t.Helper()
	var pods corev1.PodList
	eventually(t, "pod of "+j.Name, 20*time.Second, func(ctx context.Context) (bool, error) {
		err := e.client.List(ctx, &pods, client.InNamespace(j.Namespace), client.MatchingLabels{batchv1.JobNameLabel: j.Name})
		return err == nil && len(pods.Items) == 1, err
	})
	pod := &pods.Items[0]
	pod.Status.Phase = phase
	if err := e.client.Status().Update(t.Context(), pod); err != nil {
		t.Fatalf("set phase of %s: %v", pod.Name, err)
	}
	want := batchv1.JobComplete
	if phase == corev1.PodFailed {
		want = batchv1.JobFailed
	}
	var done time.Time
	eventually(t, "Job "+j.Name+" "+string(want), 20*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.client.Get(ctx, client.ObjectKeyFromObject(&j), &j); err != nil {
			return false, err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == want && c.Status == corev1.ConditionTrue {
				done = c.LastTransitionTime.Time
				return true, nil
			}
		}
		return false, nil
	})
	eventually(t, "the clock past "+done.String(), 3*time.Second, func(context.Context) (bool, error) {
		return time.Now().Truncate(time.Second).After(done), nil
	})
}

// jobCondition waits until the ScaledJob's condition ct has status s.
func (e *env) jobCondition(t *testing.T, sj *v1alpha1.ScaledJob, ct v1alpha1.ConditionType, s metav1.ConditionStatus) {
	t.Helper()
	eventually(t, sj.Name+" "+string(ct)+"="+string(s), 20*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.client.Get(ctx, client.ObjectKeyFromObject(sj), sj); err != nil {
			return false, err
		}
		c, found := sj.Status.Conditions.Get(ct)
		return found && c.Status == s, nil
	})
}
