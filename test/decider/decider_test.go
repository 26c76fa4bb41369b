package decider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider"
)

const metric = "s0-rabbitmq-orders"

// outcome is what a test checks of a decision.
type outcome struct {
	Desired, Current int32
	Active           bool
	Reason           msg.Reason
	Metrics          []msg.MetricValue
	Jobs             *msg.Jobs
}

func outcomeOf(d msg.Decision) outcome {
	return outcome{Desired: d.DesiredReplicas, Current: d.CurrentReplicas, Active: d.Active, Reason: d.Reason, Metrics: d.Metrics, Jobs: d.Jobs}
}

func expect(t *testing.T, what string, want outcome, d msg.Decision) {
	t.Helper()
	if diff := cmp.Diff(want, outcomeOf(d), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func reason(r msg.Reason) func(msg.Decision) bool {
	return func(d msg.Decision) bool { return d.Reason == r }
}

func value(v float64) []msg.MetricValue { return []msg.MetricValue{{Name: metric, Value: v}} }

func TestDecider(t *testing.T) {
	e := start(t)
	t.Run("activation, the HPA target, cooldown and deactivation on time", e.lifecycle)
	t.Run("a restart mid-cooldown still waits out the cooldown", e.restart)
	t.Run("fallback after failureThreshold failures", e.fallback)
	t.Run("a failing trigger without fallback never scales to zero", e.failing)
	t.Run("current replicas of StatefulSets and of any kind with /scale", e.targets)
	t.Run("the fast path: behavior.scaleUp steps, ready pods, off by annotation", e.fastPath)
	t.Run("ScaledJob counts running and pending Jobs", e.scaledJob)
	t.Run("two replicas split the objects and take over a dead one's", e.replicas)
}

func (e *env) lifecycle(t *testing.T) {
	s := e.scene(t, "lifecycle")
	clk := fakeClock()
	s.deployment("consumer", 0)
	// 120 s polls: the clock jumps ahead without readings, and a reading older than three
	// intervals would count as a silent poller.
	so := s.scaledObject("consumer", "  pollingInterval: 120\n  cooldownPeriod: 300")
	s.run("decider-0", clk, decider.Config{})

	s.reading(so, t0, 100, "")
	d := s.until("consumer", reason(msg.ReasonFastPath))
	expect(t, "100 messages at 0 replicas", outcome{Desired: 20, Active: true, Reason: msg.ReasonFastPath, Metrics: value(100)}, d)

	s.scale("consumer", 20) // the actuator's step; the HPA keeps it
	d = s.until("consumer", func(d msg.Decision) bool { return d.CurrentReplicas == 20 })
	expect(t, "100 messages at a target of 5, at 20 replicas", outcome{Desired: 20, Current: 20, Active: true, Reason: msg.ReasonHPA, Metrics: value(100)}, d)
	if d.PollingInterval != 120 || d.Decider != "decider-0" || len(d.Inputs) != 1 || d.Inputs[0].Value != 100 {
		t.Errorf("decision pollingInterval=%d decider=%q inputs=%v, want 120, decider-0 and the reading of 100", d.PollingInterval, d.Decider, d.Inputs)
	}

	// The queue empties at once: lastActiveTime stays t0 whatever else the replica decides
	// meanwhile (say, on a late informer event), since its clock stays there.
	s.reading(so, t0.Add(time.Millisecond), 0, "")
	d = s.until("consumer", func(d msg.Decision) bool { return !d.Active })
	expect(t, "an empty queue inside the cooldown", outcome{Desired: 1, Current: 20, Reason: msg.ReasonCooldown, Metrics: value(0)}, d)
	if end := t0.Add(300 * time.Second); !d.NextChangeAt.Equal(end) {
		t.Errorf("cooldown decision nextChangeAt = %s, want lastActiveTime + cooldownPeriod = %s", d.NextChangeAt, end)
	}

	// Nothing new comes in, yet a decision is published every polling interval: a quarter
	// interval after it, so as not to race the reading due at the interval and publish the
	// same decision just before the new one.
	clk.SetTime(t0.Add(120 * time.Second))
	s.quiet("at the polling interval, when the next reading is due")
	clk.SetTime(t0.Add(299 * time.Second))
	d = s.next("consumer")
	expect(t, "the interval's decision, still inside the cooldown", outcome{Desired: 1, Current: 20, Reason: msg.ReasonCooldown, Metrics: value(0)}, d)
	if !d.DecidedAt.Equal(clk.Now()) {
		t.Errorf("periodic decision at %s, want at %s", d.DecidedAt, clk.Now())
	}

	end := t0.Add(300 * time.Second) // lastActiveTime (t0) + cooldownPeriod
	clk.SetTime(end)
	s.quiet("at the last instant of the cooldown")
	clk.SetTime(end.Add(time.Nanosecond))
	d = s.next("consumer")
	expect(t, "the cooldown over", outcome{Desired: 0, Current: 20, Reason: msg.ReasonDeactivate, Metrics: value(0)}, d)
	if !d.DecidedAt.Equal(end.Add(time.Nanosecond)) {
		t.Errorf("deactivated at %s, want just after %s", d.DecidedAt, end)
	}
	if !d.NextChangeAt.IsZero() {
		t.Errorf("deactivated decision nextChangeAt = %s, want none", d.NextChangeAt)
	}
}

func (e *env) restart(t *testing.T) {
	s := e.scene(t, "restart")
	clk := fakeClock()
	s.deployment("consumer", 1)
	so := s.scaledObject("consumer", "  pollingInterval: 120\n  cooldownPeriod: 300") // see lifecycle
	first := s.run("decider-0", clk, decider.Config{})

	s.reading(so, t0, 100, "")
	s.until("consumer", func(d msg.Decision) bool { return d.Reason == msg.ReasonFastPath && d.DesiredReplicas == 20 })
	// The queue empties at once: lastActiveTime stays t0 whatever else the replica decides
	// meanwhile (say, on a late informer event), since its clock stays there.
	s.reading(so, t0.Add(time.Millisecond), 0, "")
	s.until("consumer", reason(msg.ReasonCooldown))

	first.stop()
	clk.SetTime(t0.Add(200 * time.Second))
	s.run("decider-1", clk, decider.Config{})
	// Without the saved lastActiveTime the object would count as never active, past its
	// initialCooldownPeriod of 0, and go to zero at once.
	d := s.next("consumer")
	expect(t, "the replacement's first decision", outcome{Desired: 1, Current: 1, Reason: msg.ReasonCooldown, Metrics: value(0)}, d)
	if d.Decider != "decider-1" {
		t.Errorf("decided by %s, want decider-1", d.Decider)
	}
	end := t0.Add(300 * time.Second)
	clk.SetTime(end.Add(time.Nanosecond))
	d = s.until("consumer", func(d msg.Decision) bool { return d.Reason != msg.ReasonCooldown })
	expect(t, "the cooldown over", outcome{Desired: 0, Current: 1, Reason: msg.ReasonDeactivate, Metrics: value(0)}, d)
	if !d.DecidedAt.Equal(end.Add(time.Nanosecond)) {
		t.Errorf("deactivated at %s, want just after %s", d.DecidedAt, end)
	}
}

const refused = "dial tcp 127.0.0.1:5672: connect: connection refused"

func (e *env) fallback(t *testing.T) {
	s := e.scene(t, "fallback")
	clk := fakeClock()
	s.deployment("consumer", 2)
	so := s.scaledObject("consumer", "  fallback: {failureThreshold: 3, replicas: 6}")
	s.run("decider-0", clk, decider.Config{})

	s.reading(so, t0, 10, "")
	d := s.until("consumer", reason(msg.ReasonHPA))
	expect(t, "10 messages at 2 replicas", outcome{Desired: 2, Current: 2, Active: true, Reason: msg.ReasonHPA, Metrics: value(10)}, d)
	for i := int32(1); i <= 3; i++ {
		clk.Step(time.Second)
		s.reading(so, clk.Now(), 0, refused)
		d = s.next("consumer")
		expect(t, "a failure within the threshold", outcome{Desired: 2, Current: 2, Reason: msg.ReasonFailing,
			Metrics: []msg.MetricValue{{Name: metric, Error: "trigger 0: " + refused, Failures: i}}}, d)
	}
	clk.Step(time.Second)
	s.reading(so, clk.Now(), 0, refused)
	d = s.next("consumer")
	expect(t, "the fourth failure in a row: the fast path goes to the fallback count", outcome{Desired: 6, Current: 2, Active: true, Reason: msg.ReasonFastPath,
		Metrics: []msg.MetricValue{{Name: metric, Value: 30, Fallback: true, Failures: 4}}}, d)

	clk.Step(time.Second)
	s.reading(so, clk.Now(), 10, "")
	d = s.next("consumer")
	expect(t, "a success ends the fallback", outcome{Desired: 2, Current: 2, Active: true, Reason: msg.ReasonHPA, Metrics: value(10)}, d)
}

func (e *env) failing(t *testing.T) {
	s := e.scene(t, "failing")
	clk := fakeClock()
	s.deployment("consumer", 3)
	so := s.scaledObject("consumer", "  cooldownPeriod: 0\n  pollingInterval: 30")
	s.run("decider-0", clk, decider.Config{})

	s.reading(so, t0, 0, refused)
	failing := outcome{Desired: 3, Current: 3, Reason: msg.ReasonFailing,
		Metrics: []msg.MetricValue{{Name: metric, Error: "trigger 0: " + refused, Failures: 1}}}
	d := s.until("consumer", func(d msg.Decision) bool { return len(d.Inputs) == 1 })
	expect(t, "a failing trigger", failing, d)
	clk.Step(time.Hour)
	d = s.next("consumer")
	expect(t, "an hour later, past any cooldown", failing, d)
}

func (e *env) targets(t *testing.T) {
	s := e.scene(t, "targets")
	labels := map[string]string{"app": "x"}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
	}
	for _, obj := range []client.Object{
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "stateful", Namespace: s.ns},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "replicaset", Namespace: s.ns},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](4), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template}},
	} {
		if err := s.kube.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	stateful := &v1alpha1.ScaledObject{}
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: stateful}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: stateful}
  triggers: [{type: rabbitmq, metadata: {hostFromEnv: URL, queueName: orders, value: "5"}}]
`, stateful)
	rs := &v1alpha1.ScaledObject{}
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: replicaset}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: ReplicaSet, name: replicaset}
  triggers: [{type: rabbitmq, metadata: {hostFromEnv: URL, queueName: orders, value: "5"}}]
`, rs)
	s.run("decider-0", fakeClock(), decider.Config{})

	s.reading(stateful, t0, 50, "")
	d := s.until("stateful", reason(msg.ReasonFastPath))
	expect(t, "a StatefulSet read from its informer", outcome{Desired: 10, Current: 3, Active: true, Reason: msg.ReasonFastPath, Metrics: value(50)}, d)
	s.reading(rs, t0, 50, "")
	d = s.until("replicaset", reason(msg.ReasonFastPath))
	expect(t, "a ReplicaSet read through /scale", outcome{Desired: 10, Current: 4, Active: true, Reason: msg.ReasonFastPath, Metrics: value(50)}, d)
}
