package jobs

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func job(name string, state State, finished time.Duration, generation string) batchv1.Job {
	j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0),
		Annotations: map[string]string{GenerationAnnotation: generation}}}
	at := metav1.NewTime(t0.Add(finished))
	switch state {
	case Succeeded:
		j.Status.CompletionTime = &at
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue}, {Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: at}}
	case Failed:
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue}, {Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: at}}
	}
	return j
}

func names(list []batchv1.Job) []string {
	out := []string{}
	for _, j := range list {
		out = append(out, j.Name)
	}
	return out
}

func TestExpired(t *testing.T) {
	list := []batchv1.Job{
		job("ok-3", Succeeded, 3*time.Minute, "1"),
		job("ok-1", Succeeded, 1*time.Minute, "1"),
		job("run", Running, 0, "1"),
		job("bad-2", Failed, 2*time.Minute, "1"),
		job("ok-2", Succeeded, 2*time.Minute, "1"),
		job("bad-1", Failed, 1*time.Minute, "1"),
	}
	tests := map[string]struct {
		successful, failed int32
		want               []string
	}{
		"within both limits nothing expires":  {successful: 3, failed: 2, want: []string{}},
		"the oldest successful go first":      {successful: 1, failed: 2, want: []string{"ok-1", "ok-2"}},
		"failed Jobs have their own limit":    {successful: 5, failed: 1, want: []string{"bad-1"}},
		"a zero limit keeps no finished Jobs": {successful: 0, failed: 0, want: []string{"ok-1", "ok-2", "ok-3", "bad-1", "bad-2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Expired(append([]batchv1.Job(nil), list...), tc.successful, tc.failed)
			if diff := cmp.Diff(tc.want, names(got)); diff != "" {
				t.Errorf("Expired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutdated(t *testing.T) {
	list := []batchv1.Job{
		job("old-running", Running, 0, "1"),
		job("old-done", Succeeded, time.Minute, "1"),
		job("new-running", Running, 0, "2"),
		job("foreign", Running, 0, ""),
	}
	if diff := cmp.Diff([]string{"old-running", "foreign"}, names(Outdated(list, 2))); diff != "" {
		t.Errorf("Outdated (-want +got):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	sj := &v1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Name: "resize", Namespace: "shop", UID: "uid-1", Generation: 3},
		Spec: v1alpha1.ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "resize"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "resize:1"}}},
		}}},
	}
	got := New(sj, DecisionTag(t0))
	want := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "resize-", Namespace: "shop",
			Labels:      map[string]string{"scaledjob.keda.sh/name": "resize", "app.kubernetes.io/managed-by": "ebb", DecisionLabel: "1767225600000000000"},
			Annotations: map[string]string{GenerationAnnotation: "3"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledJob", Name: "resize", UID: "uid-1",
				Controller: new(true), BlockOwnerDeletion: new(true)}},
		},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "resize", "scaledjob.keda.sh/name": "resize"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "resize:1"}}, RestartPolicy: corev1.RestartPolicyOnFailure},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("New (-want +got):\n%s", diff)
	}
	if sj.Spec.JobTargetRef.Template.Spec.RestartPolicy != "" || len(sj.Spec.JobTargetRef.Template.Labels) != 1 {
		t.Error("New changed the ScaledJob's template")
	}
	sj.Spec.JobTargetRef.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	if got := New(sj, "1").Spec.Template.Spec.RestartPolicy; got != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %s, want the template's Never kept", got)
	}
}

func TestCreated(t *testing.T) {
	a, b := job("a", Running, 0, "1"), job("b", Succeeded, 0, "1")
	a.Labels = map[string]string{DecisionLabel: "10"}
	b.Labels = map[string]string{DecisionLabel: "10"}
	c := job("c", Running, 0, "1")
	c.Labels = map[string]string{DecisionLabel: "11"}
	if got := Created([]batchv1.Job{a, b, c}, "10"); got != 2 {
		t.Errorf("Created = %d, want 2", got)
	}
}
