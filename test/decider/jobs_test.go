package decider

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider"
	"ebb.dev/services/decider/kube"
)

// job creates a Job of sj as the actuator would (labelled with its ScaledJob's name); done
// marks it Complete through the status subresource, as the Job controller would.
func (s *scene) job(name string, sj *v1alpha1.ScaledJob, done bool) {
	s.t.Helper()
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns, Labels: map[string]string{v1alpha1.ScaledJobNameLabel: sj.Name}},
		Spec:       *sj.Spec.JobTargetRef.DeepCopy(),
	}
	if err := s.kube.Create(s.t.Context(), j); err != nil {
		s.t.Fatal(err)
	}
	if !done {
		return
	}
	now := metav1.Now()
	j.Status = batchv1.JobStatus{
		StartTime: &now, CompletionTime: &now, Succeeded: 1,
		Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if err := s.kube.Status().Update(s.t.Context(), j); err != nil {
		s.t.Fatalf("complete job %s: %v", name, err)
	}
}

// pod creates the pod of Job job of sj in phase, labelled as the Job controller labels it from
// the template the actuator labels (there is no kubelet nor Job controller).
func (s *scene) pod(job string, sj *v1alpha1.ScaledJob, phase corev1.PodPhase) {
	s.t.Helper()
	labels := map[string]string{kube.JobNameLabel: job, v1alpha1.ScaledJobNameLabel: sj.Name}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-pod", Namespace: s.ns, Labels: labels},
		Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "w", Image: "busybox"}}},
	}
	if err := s.kube.Create(s.t.Context(), p); err != nil {
		s.t.Fatal(err)
	}
	s.phase(p.Name, phase)
}

// phase sets a pod's phase through the status subresource, as a kubelet would.
func (s *scene) phase(pod string, phase corev1.PodPhase) {
	s.t.Helper()
	var p corev1.Pod
	if err := s.kube.Get(s.t.Context(), client.ObjectKey{Namespace: s.ns, Name: pod}, &p); err != nil {
		s.t.Fatal(err)
	}
	p.Status.Phase = phase
	if err := s.kube.Status().Update(s.t.Context(), &p); err != nil {
		s.t.Fatalf("set phase of pod %s: %v", pod, err)
	}
}

func (e *env) scaledJob(t *testing.T) {
	s := e.scene(t, "jobs")
	clk := fakeClock()
	sj := &v1alpha1.ScaledJob{}
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: worker}
spec:
  pollingInterval: 30
  maxReplicaCount: 10
  scalingStrategy: {strategy: accurate}
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers: [{name: w, image: busybox}]
  triggers:
  - type: rabbitmq
    metadata: {hostFromEnv: URL, queueName: orders, value: "1"}
`, sj)
	s.job("worker-done", sj, true)
	s.job("worker-running", sj, false)
	s.pod("worker-running", sj, corev1.PodRunning)
	s.job("worker-pending", sj, false)
	s.pod("worker-pending", sj, corev1.PodPending)
	s.job("worker-podless", sj, false)
	s.reading(sj, t0, 5, "") // stored before the decider starts, which reads it from the bucket
	s.run("decider-0", clk, decider.Config{})

	// accurate: maxScale 5; 5 + 3 running - 2 pending <= 10, so 5 - 2 pending = 3 to create.
	d := s.next("worker")
	expect(t, "5 messages, 3 running Jobs of which 2 pending", outcome{Desired: 6, Current: 3, Active: true, Reason: msg.ReasonJobs,
		Jobs: &msg.Jobs{Create: 3, Running: 3, Pending: 2}}, d)

	// The pending pod runs; the next interval sees one pending Job (the one without a pod).
	// The poller's next reading says the same; stamped ahead, it stays fresh however many
	// intervals the informers take to see the pod run (readings 3 intervals old mean a
	// silent poller).
	s.reading(sj, t0.Add(5*time.Minute), 5, "")
	s.phase("worker-pending-pod", corev1.PodRunning)
	for i := 0; ; i++ {
		clk.Step(30 * time.Second)
		d = s.next("worker")
		if d.Jobs.Pending == 1 || i == 10 {
			break
		}
	}
	expect(t, "the next interval, one Job pending", outcome{Desired: 7, Current: 3, Active: true, Reason: msg.ReasonJobs,
		Jobs: &msg.Jobs{Create: 4, Running: 3, Pending: 1}}, d)
	if got := d.DecidedAt.Sub(t0) % (30 * time.Second); got != 0 {
		t.Errorf("ScaledJob decided %s off its 30s interval", got)
	}
}
