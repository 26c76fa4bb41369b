package provider

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// BenchmarkGetExternalMetric measures one HPA request answered from memory with 1,000 and
// 10,000 ScaledObjects held, and reports p50/p99 per request.
func BenchmarkGetExternalMetric(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("metrics=%d", n), func(b *testing.B) {
			now := time.Now()
			store := NewStore(func() time.Time { return now })
			selectors := make([]labels.Selector, n)
			for i := range n {
				name := fmt.Sprintf("consumer-%d", i)
				store.Set(Key{"bench", name}, []Value{{Metric: "s0-rabbitmq-orders", Value: float64(i), At: now, PollingInterval: 30 * time.Second}})
				selectors[i] = labels.SelectorFromSet(labels.Set{ScaledObjectLabel: name})
			}
			p := New(store)
			info := cmprovider.ExternalMetricInfo{Metric: "s0-rabbitmq-orders"}
			ctx := context.Background()
			latencies := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := p.GetExternalMetric(ctx, "bench", selectors[i%n], info); err != nil {
					b.Fatal(err)
				}
				latencies = append(latencies, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
