package hpa

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// BenchmarkSync measures one sync of an HPA with default behavior and two metrics whose
// values swing, so stabilization and rate limits both do work.
func BenchmarkSync(b *testing.B) {
	h, err := New(spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{},
		metric("a", avg, 5), metric("b", val, 10)))
	if err != nil {
		b.Fatal(err)
	}
	samples := [][]Sample{{{Value: 400}, {Value: 20}}, {{Value: 10}, {Value: 5}}}
	current := int32(1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		current = h.Sync(t0.Add(time.Duration(i)*SyncPeriod), current, samples[(i/40)%2]).Replicas
		i++
	}
}
