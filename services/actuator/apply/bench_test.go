package apply

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/status"
)

// BenchmarkSteadyStateDecision is the CPU an applier spends on a decision that changes
// nothing (the common case: 10,000 objects at a 30 s interval are 333 a second): judge it,
// rule out a scale read, compute the status and find it unchanged.
func BenchmarkSteadyStateDecision(b *testing.B) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	metrics := []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: 40}, {Name: "s1-kafka-payments", Value: 12}, {Name: "s2-cron", Value: 1}}
	var inputs []msg.Reading
	for i, m := range metrics {
		inputs = append(inputs, msg.Reading{Trigger: msg.TriggerRef{Index: i, MetricName: m.Name}, Value: m.Value, Active: true})
	}
	d := msg.Decision{
		Object: msg.ObjectRef{UID: "uid-1", Generation: 3}, Reason: msg.ReasonHPA, Active: true,
		CurrentReplicas: 4, DesiredReplicas: 6, PollingInterval: 30, DecidedAt: now, Metrics: metrics, Inputs: inputs,
	}
	so := &v1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{UID: "uid-1", Generation: 3}}
	activity := status.ActivityOf(d, now, time.Minute)
	so.Status = status.Decided(so.Status, d, activity)
	known := new(int32(4))
	b.ReportAllocs()
	for b.Loop() {
		if v, _ := judge(d, so, false, now); v != apply {
			b.Fatal("steady decision not applied")
		}
		if mayNeedScaleWrite(d, known, 0) {
			b.Fatal("steady decision needs a scale read")
		}
		if !equality.Semantic.DeepEqual(so.Status, status.Decided(so.Status, d, activity)) {
			b.Fatal("steady decision changes the status")
		}
	}
}
