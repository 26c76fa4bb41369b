package e2e

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// scaledJob: a ScaledJob on a RabbitMQ queue creates Jobs as the default strategy says (one
// per message, less the Jobs still running), and once they finish it keeps only the newest
// one succeeded and one failed Job. No kubelet runs here, so the test finishes each Job's pod
// through the status subresource, and the job controller marks the Job Complete or Failed.
func scaledJob(t *testing.T, e *env) {
	const ns, name, queue = "jobs", "render", "frames"
	url := e.rabbitQueue(t, ns, "renderer", "frames-pw-3", queue)
	e.Namespace(t, ns)
	e.triggerAuthentication(t, ns, "rabbitmq", url)
	e.apply(t, scaledJobs, map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"pollingInterval":            int64(1),
			"maxReplicaCount":            int64(10),
			"successfulJobsHistoryLimit": int64(1),
			"failedJobsHistoryLimit":     int64(1),
			"jobTargetRef": map[string]any{
				"backoffLimit": int64(0),
				"template": map[string]any{"spec": map[string]any{
					"restartPolicy": "Never",
					"containers":    []any{map[string]any{"name": "render", "image": "registry.invalid/render:1"}},
				}},
			},
			"triggers": []any{map[string]any{
				"type":              "rabbitmq",
				"metadata":          map[string]any{"queueName": queue, "mode": "QueueLength", "value": "1"},
				"authenticationRef": map[string]any{"name": "rabbitmq"},
			}},
		},
	})

	// 4 messages, nothing running: 4 Jobs; and no more while those 4 run.
	publish(t, url, queue, 4)
	e.waitForJobs(t, ns, name, 4)
	e.holdsJobs(t, ns, name, 4, 3*time.Second)
	// 6 messages, 4 running: 6 − 4 = 2 more.
	publish(t, url, queue, 2)
	e.waitForJobs(t, ns, name, 6)
	e.holdsJobs(t, ns, name, 6, 3*time.Second)

	for _, j := range e.jobs(t, ns, name) {
		if j.Labels[v1alpha1.ScaledJobNameLabel] != name || !strings.HasPrefix(j.Name, name+"-") {
			t.Errorf("Job %s: name or labels %v do not name ScaledJob %s", j.Name, j.Labels, name)
		}
	}

	// The workers take every message, then finish: four succeed, two fail, one at a time
	// so that each finishes in a later second than the one before.
	consume(t, url, queue, 6)
	consumed := time.Now()
	tap := e.Connect(t, bus.RoleTap)
	poll(t, 10*time.Second, "a reading of the empty queue", func() (bool, string) {
		r, ok := e.lastReading(t, tap, ns, name)
		return ok && r.Error == "" && r.Value == 0 && r.ObservedAt.After(consumed), fmt.Sprintf("%+v", r)
	})
	jobs := e.jobs(t, ns, name)
	outcomes := []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed, corev1.PodSucceeded, corev1.PodSucceeded, corev1.PodFailed, corev1.PodSucceeded}
	for i, j := range jobs {
		e.finishJob(t, &j, outcomes[i])
	}

	// Left: the last to succeed and the last to fail.
	want := []string{jobs[4].Name, jobs[5].Name}
	poll(t, 30*time.Second, fmt.Sprintf("only Jobs %v left", want), func() (bool, string) {
		var got []string
		for _, j := range e.jobs(t, ns, name) {
			got = append(got, j.Name)
		}
		return slices.Equal(got, want), fmt.Sprint(got)
	})

	var created, deleted int32
	for _, a := range e.actions(t, msg.Filter{Namespace: ns, Kind: msg.ScaledJob, Name: name}) {
		switch {
		case a.Operation == msg.OpJobCreate && a.Result == msg.ResultOK:
			created += *a.To - *a.From
		case a.Operation == msg.OpJobCleanup && a.Result == msg.ResultOK:
			deleted += *a.From - *a.To
		}
	}
	if created != 6 || deleted != 4 {
		t.Errorf("actions on the bus: %d Jobs created and %d deleted, want 6 and 4", created, deleted)
	}
}

// jobs lists a ScaledJob's Jobs, oldest first.
func (s *Stack) jobs(t *testing.T, namespace, scaledJob string) []batchv1.Job {
	t.Helper()
	list, err := s.Kube.BatchV1().Jobs(namespace).List(t.Context(), metav1.ListOptions{LabelSelector: v1alpha1.ScaledJobNameLabel + "=" + scaledJob})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b batchv1.Job) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	return list.Items
}

func (s *Stack) waitForJobs(t *testing.T, namespace, scaledJob string, want int) {
	t.Helper()
	poll(t, 30*time.Second, fmt.Sprintf("%d Jobs of %s/%s", want, namespace, scaledJob), func() (bool, string) {
		n := len(s.jobs(t, namespace, scaledJob))
		return n == want, fmt.Sprintf("%d Jobs", n)
	})
}

func (s *Stack) holdsJobs(t *testing.T, namespace, scaledJob string, want int, d time.Duration) {
	t.Helper()
	holds(t, d, fmt.Sprintf("%d Jobs of %s/%s", want, namespace, scaledJob), func() (bool, string) {
		n := len(s.jobs(t, namespace, scaledJob))
		return n == want, fmt.Sprintf("%d Jobs", n)
	})
}

// finishJob does what a kubelet would when the Job's pod ends in phase, and waits until the
// job controller has marked the Job finished and the clock has moved past that second, so
// the next Job to finish finishes later.
func (s *Stack) finishJob(t *testing.T, j *batchv1.Job, phase corev1.PodPhase) {
	t.Helper()
	ctx := t.Context()
	pods := s.Kube.CoreV1().Pods(j.Namespace)
	var pod *corev1.Pod
	poll(t, 30*time.Second, "the pod of Job "+j.Name, func() (bool, string) {
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + j.Name})
		if err != nil || len(list.Items) != 1 {
			return false, fmt.Sprintf("pods %d, error %v", len(list.Items), err)
		}
		pod = &list.Items[0]
		return true, ""
	})
	now := metav1.Now()
	exit := int32(0)
	if phase == corev1.PodFailed {
		exit = 1
	}
	pod.Status.Phase = phase
	pod.Status.StartTime = &now
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, StartedAt: now, FinishedAt: now}},
	}}
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set pod %s %s: %v", pod.Name, phase, err)
	}
	want := batchv1.JobComplete
	if phase == corev1.PodFailed {
		want = batchv1.JobFailed
	}
	var finished time.Time
	poll(t, 30*time.Second, fmt.Sprintf("Job %s %s", j.Name, want), func() (bool, string) {
		got, err := s.Kube.BatchV1().Jobs(j.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range got.Status.Conditions {
			if c.Type == want && c.Status == corev1.ConditionTrue {
				finished = c.LastTransitionTime.Time
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", got.Status.Conditions)
	})
	waitUntil(t, 2*time.Second, "the next second", func() bool { return time.Now().Truncate(time.Second).After(finished) })
}

// consume takes n messages off queue and acknowledges them, as workers would.
func consume(t *testing.T, url, queue string, n int) {
	t.Helper()
	ch := amqpChannel(t, url)
	for i := range n {
		m, ok, err := ch.Get(queue, false)
		if err != nil || !ok {
			t.Fatalf("get message %d of %d from %s: ok %v, %v", i+1, n, queue, ok, err)
		}
		if err := m.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
}
