package decider

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
)

// TestMetrics runs a replica over three objects, sends each a reading and checks what the
// collectors counted against the decisions that reached the bus.
func TestMetrics(t *testing.T) {
	b := bustest.Start(t)
	objects := benchObjects(3)
	m := NewMetrics(prometheus.NewPedanticRegistry())
	tap := b.Connect(t, bus.RoleTap)
	decisions := make(chan msg.Decision, 16)
	if _, err := tap.Subscribe(t.Context(), tap.Prefix().All(msg.TypeDecision), func(nm *nats.Msg) {
		if d, err := msg.DecodeAs[msg.Decision](nm.Data); err == nil {
			decisions <- d
		}
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{ID: "d0", Metrics: m}, slog.New(slog.DiscardHandler),
			WithConn(b.Connect(t, bus.RoleDecider)), WithCluster(objects))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	// The first round may reach the replica from the readings bucket, before it subscribes;
	// the second is live.
	poller := b.Connect(t, bus.RolePoller)
	reasons := map[msg.Reason]float64{}
	for _, v := range []float64{7, 12} {
		for _, o := range objects {
			r := msg.Reading{
				Schema:  msg.ReadingSchema,
				Object:  msg.ObjectRef{Namespace: o.GetNamespace(), Kind: msg.ScaledObject, Name: o.GetName(), UID: string(o.GetUID()), Generation: 1},
				Trigger: msg.TriggerRef{Type: "rabbitmq", MetricName: "s0-rabbitmq-orders"},
				Value:   v, Active: true, Target: msg.Target{Type: msg.AverageValue, Value: 5},
				ObservedAt: time.Now(), Poller: "p0",
			}
			if err := poller.Publish(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		for range objects {
			select {
			case d := <-decisions:
				reasons[d.Reason]++
			case <-time.After(10 * time.Second):
				t.Fatalf("no decision on the readings of %v within 10s", v)
			}
		}
	}

	type check struct {
		metric  prometheus.Metric
		want    float64
		atLeast bool // the first round may have been live too
	}
	tests := map[string]check{
		"every live reading consumed":            {m.readings, 3, true},
		"every live reading's age when taken up": {m.lag, 3, true},
		"a latency for each live decision":       {m.latency, 3, true},
		"every object owned by the one replica":  {m.objects, 3, false},
	}
	for reason, n := range reasons {
		tests["decisions of reason "+string(reason)] = check{m.decisions.WithLabelValues(string(reason)), n, false}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// The tap may see a decision before the decider has counted it: it counts once the
			// bus has acknowledged.
			deadline := time.Now().Add(2 * time.Second)
			for {
				got := value(t, tc.metric)
				if got == tc.want || (tc.atLeast && got > tc.want) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("got %v, want %v (at least: %v)", got, tc.want, tc.atLeast)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// value is a counter's or gauge's value, or a histogram's sample count.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue() + d.GetGauge().GetValue() + float64(d.GetHistogram().GetSampleCount())
}
