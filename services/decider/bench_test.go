package decider

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider/hpa"
	"ebb.dev/services/decider/kube"
)

// static is a cluster of fixed ScaledObjects whose targets all run one replica: the
// benchmarks measure the bus, the state bucket and the decisions, not the API server.
type static []client.Object

func (s static) Watch(_ context.Context, h kube.Handler) error {
	for _, o := range s {
		h.Set(o)
	}
	return nil
}

func (static) Replicas(context.Context, string, v1alpha1.ScaleTarget) (hpa.Pods, error) {
	return hpa.Steady(1), nil
}
func (static) Jobs(context.Context, string, string, []string) (int32, int32, error) {
	return 0, 0, nil
}

func benchObjects(n int) static {
	out := make(static, n)
	for i := range out {
		out[i] = &v1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("consumer-%d", i), UID: types.UID(fmt.Sprintf("uid-%d", i)), Generation: 1},
			Spec: v1alpha1.ScaledObjectSpec{
				ScaleTargetRef: &v1alpha1.ScaleTarget{Name: fmt.Sprintf("consumer-%d", i)},
				Triggers: []v1alpha1.ScaleTriggers{{Type: "rabbitmq", Metadata: map[string]string{
					"hostFromEnv": "URL", "queueName": "orders", "value": "5"}}},
			},
		}
	}
	return out
}

// bench is a decider on a loopback TCP bus, a poller connection that publishes readings
// without waiting for acks, and a tap that timestamps every decision it receives.
type bench struct {
	objects static
	nc      *nats.Conn
	prefix  msg.Prefix
	got     chan received
	start   time.Duration // from the replica's start to the first decision of every object
}

type received struct {
	d  msg.Decision
	at time.Time
}

func startBench(b *testing.B, objects int) *bench {
	b.Helper()
	bb := bustest.Start(b)
	be := &bench{objects: benchObjects(objects), got: make(chan received, 1<<16)}
	poller := bb.Connect(b, bus.RolePoller)
	be.nc, be.prefix = poller.NATS(), poller.Prefix()
	tap := bb.Connect(b, bus.RoleTap)
	if _, err := tap.Subscribe(b.Context(), tap.Prefix().All(msg.TypeDecision), func(m *nats.Msg) {
		at := time.Now()
		d, err := msg.DecodeAs[msg.Decision](m.Data)
		if err != nil {
			b.Errorf("decision: %v", err)
			return
		}
		be.got <- received{d: d, at: at}
	}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{ID: "bench"}, slog.New(slog.DiscardHandler),
			WithConn(bb.Connect(b, bus.RoleDecider)), WithCluster(be.objects))
	}()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	// Every object is decided on its first reading once the replica holds its partitions.
	started := time.Now()
	for i := range objects {
		be.send(b, i, 0)
	}
	for range objects {
		be.wait(b)
	}
	be.start = time.Since(started) // includes the partitions' first acquisition
	return be
}

// send publishes reading number seq of object i, stamped with the time it is sent.
func (be *bench) send(b *testing.B, i, seq int) {
	o := be.objects[i]
	r := msg.Reading{
		Object:  msg.ObjectRef{Namespace: o.GetNamespace(), Kind: msg.ScaledObject, Name: o.GetName(), UID: string(o.GetUID()), Generation: 1},
		Trigger: msg.TriggerRef{Type: "rabbitmq", MetricName: "s0-rabbitmq-orders"},
		Value:   float64(seq), Active: seq > 0, Target: msg.Target{Type: msg.AverageValue, Value: 5},
		ObservedAt: time.Now(), Poller: "bench",
	}
	data, err := msg.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	if err := be.nc.Publish(be.prefix.Subject(r), data); err != nil {
		b.Fatal(err)
	}
}

func (be *bench) wait(b *testing.B) received {
	select {
	case r := <-be.got:
		return r
	case <-time.After(30 * time.Second):
		b.Fatal("no decision within 30s")
		return received{}
	}
}

// latency is how long a decision took from its reading's publication.
func latency(r received) time.Duration { return r.at.Sub(r.d.Inputs[0].ObservedAt) }

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkReadingToDecision publishes one reading at a time and waits for its decision:
// the latency of one decision through the bus, with the state saved before it is published.
func BenchmarkReadingToDecision(b *testing.B) {
	be := startBench(b, 100)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		be.send(b, i%len(be.objects), i+1)
		lat = append(lat, latency(be.wait(b)))
	}
	b.StopTimer()
	report(b, lat)
}

// BenchmarkDecisions keeps a window of readings in flight over 1,000 and 10,000 objects and
// measures decisions per second, the latency under that load, and how long a replica takes
// from its start to the first decision of every object (start-s).
func BenchmarkDecisions(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) { benchDecisions(b, n) })
	}
}

func benchDecisions(b *testing.B, objects int) {
	const window = 512
	be := startBench(b, objects)
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	n, inFlight := 0, 0
	for ; b.Loop(); n++ {
		for inFlight >= window {
			r := be.wait(b)
			mu.Lock()
			lat = append(lat, latency(r))
			mu.Unlock()
			inFlight--
		}
		be.send(b, n%len(be.objects), n+1)
		inFlight++
	}
	for ; inFlight > 0; inFlight-- {
		lat = append(lat, latency(be.wait(b)))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(be.start.Seconds(), "start-s")
	report(b, lat)
}

func busConfig() bus.ClientConfig {
	return bus.ClientConfig{URL: "nats://127.0.0.1:4222", User: "decider", Password: "p"}
}
