package bus_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// BenchmarkReadings measures what a poller's reading costs until the decider has decoded it:
// Publish (encode, JetStream publish into the readings bucket, wait for the ack), delivery to
// a core subscription, decode. It reports msgs/s and the p99 publish-to-decoded latency,
// publishing one at a time and from many goroutines, in-process and over loopback TCP.
func BenchmarkReadings(b *testing.B) {
	for _, via := range []string{"in-process", "tcp"} {
		for _, parallel := range []bool{false, true} {
			name := via + "/sequential"
			if parallel {
				name = via + "/parallel"
			}
			b.Run(name, func(b *testing.B) { benchReadings(b, via == "tcp", parallel) })
		}
	}
}

func benchReadings(b *testing.B, tcp, parallel bool) {
	srv := bustest.Start(b)
	dial := srv.ConnectInProcess
	if tcp {
		dial = srv.Connect
	}
	poller, decider := dial(b, bus.RolePoller), dial(b, bus.RoleDecider)
	var mu sync.Mutex
	var latencies []time.Duration
	var received atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sub, err := decider.Subscribe(b.Context(), msg.DefaultPrefix.All(msg.TypeReading), func(m *nats.Msg) {
		r, err := msg.DecodeAs[msg.Reading](m.Data)
		if err != nil {
			b.Error(err)
			return
		}
		mu.Lock()
		latencies = append(latencies, time.Since(r.ObservedAt))
		mu.Unlock()
		if received.Add(1) == want.Load() {
			done <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	publish := func() {
		i := next.Add(1)
		r := msgtest.Reading()
		r.Trigger.Index = int(i % 1000) // a thousand triggers, as many keys in the bucket
		r.Value, r.ObservedAt = float64(i), time.Now()
		if err := poller.Publish(b.Context(), r); err != nil {
			b.Error(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	if parallel {
		want.Store(int64(b.N))
		b.SetParallelism(32) // many triggers polled at once
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				publish()
			}
		})
	} else {
		n := 0
		for b.Loop() {
			publish()
			n++
		}
		want.Store(int64(n))
		if received.Load() == int64(n) {
			done <- struct{}{}
		}
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.Fatalf("consumed %d of %d readings", received.Load(), want.Load())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
}
