package decider

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider"
)

// fastPath: behavior.scaleUp's policies bound each fast-path step, counted over the decider's
// own steps; a Value target multiplies by the ready pods the Deployment's status reports; the
// annotation turns the path off.
func (e *env) fastPath(t *testing.T) {
	s := e.scene(t, "fastpath")
	clk := fakeClock()
	for _, name := range []string{"limited", "value", "keda"} {
		s.deployment(name, 2)
	}
	// 1 of the 2 pods ready, before the decider starts so its informer lists it.
	s.ready("value", 2, 1)
	limited, byValue, keda := &v1alpha1.ScaledObject{}, &v1alpha1.ScaledObject{}, &v1alpha1.ScaledObject{}
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: limited}
spec:
  scaleTargetRef: {name: limited}
  pollingInterval: 120
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleUp: {policies: [{type: Pods, value: 4, periodSeconds: 15}]}
  triggers: [{type: rabbitmq, metadata: {hostFromEnv: URL, queueName: orders, value: "5"}}]
`, limited)
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: value}
spec:
  scaleTargetRef: {name: value}
  pollingInterval: 120
  triggers: [{type: rabbitmq, metricType: Value, metadata: {hostFromEnv: URL, queueName: orders, value: "5"}}]
`, byValue)
	s.apply(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: keda
  annotations: {autoscaling.ebb.dev/fast-scale-up: "false"}
spec:
  scaleTargetRef: {name: keda}
  pollingInterval: 120
  triggers: [{type: rabbitmq, metadata: {hostFromEnv: URL, queueName: orders, value: "5"}}]
`, keda)
	s.run("decider-0", clk, decider.Config{})

	s.reading(limited, t0, 100, "")
	d := s.until("limited", func(d msg.Decision) bool { return len(d.Inputs) == 1 })
	expect(t, "4 pods per 15 s from 2", outcome{Desired: 6, Current: 2, Active: true, Reason: msg.ReasonFastPath, Metrics: value(100)}, d)
	s.scale("limited", 6)
	d = s.until("limited", func(d msg.Decision) bool { return d.CurrentReplicas == 6 })
	expect(t, "no room left in the period", outcome{Desired: 20, Current: 6, Active: true, Reason: msg.ReasonHPA, Metrics: value(100)}, d)
	clk.Step(16 * time.Second)
	s.reading(limited, clk.Now(), 100, "")
	d = s.next("limited")
	expect(t, "the next period's 4 pods", outcome{Desired: 10, Current: 6, Active: true, Reason: msg.ReasonFastPath, Metrics: value(100)}, d)

	// 15 messages at a Value target of 5 is a ratio of 3, times the 1 ready pod of 2.
	s.reading(byValue, clk.Now(), 15, "")
	d = s.until("value", func(d msg.Decision) bool { return len(d.Inputs) == 1 })
	expect(t, "a Value target times the ready pods", outcome{Desired: 3, Current: 2, Active: true, Reason: msg.ReasonFastPath, Metrics: value(15)}, d)

	s.reading(keda, clk.Now(), 100, "")
	d = s.until("keda", func(d msg.Decision) bool { return len(d.Inputs) == 1 })
	expect(t, "off by annotation: the HPA's pace", outcome{Desired: 20, Current: 2, Active: true, Reason: msg.ReasonHPA, Metrics: value(100)}, d)
}

// ready sets a Deployment's status: pods that exist and the ready ones, as the Deployment
// controller reports them.
func (s *scene) ready(name string, existing, ready int32) {
	s.t.Helper()
	var d appsv1.Deployment
	if err := s.kube.Get(s.t.Context(), client.ObjectKey{Namespace: s.ns, Name: name}, &d); err != nil {
		s.t.Fatal(err)
	}
	d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = existing, ready, ready
	if err := s.kube.Status().Update(s.t.Context(), &d); err != nil {
		s.t.Fatal(err)
	}
}
