package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller"
)

// TestMetrics polls three triggers (one read, one failing, one of a type no scaler builds),
// wakes them and deletes their object, and reads each count back from the registry.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.queues.set("busy", 7)
	src := e.queues.source()
	src.Waking = true
	reg := prometheus.NewPedanticRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	deps := poller.Deps{Bus: e.bus.Connect(t, bus.RolePoller), Scalers: src, Log: bustest.Logger(t), Metrics: poller.NewMetrics(reg)}
	p, err := poller.Start(ctx, poller.Config{ID: "p0", Timeout: time.Second}, deps, e.cluster.Resolver("ebb-system"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); p.Wait() })

	so := scaledObject("orders", 1, 30, rabbit("busy"), rabbit("missing"),
		v1alpha1.ScaleTriggers{Type: "nosuch", Metadata: map[string]string{"value": "1"}})
	p.Set(t.Context(), so)
	e.rec.Wait(t, "a reading of every trigger", 5*time.Second, func(all map[string][]msg.Reading) bool {
		return len(all[key("orders", msg.ScaledObject, 0)]) > 0 && len(all[key("orders", msg.ScaledObject, 1)]) > 0 &&
			len(all[key("orders", msg.ScaledObject, 2)]) > 0
	})
	waitFor(t, "wake-ups started", 2*time.Second, func() bool { return src.Wakes() == 2 })
	src.Fire()

	tests := map[string]struct {
		name   string
		labels map[string]string
		want   func(float64) bool
	}{
		"a poll that read":                 {"ebb_poller_polls_total", map[string]string{"scaler": "rabbitmq", "result": "ok"}, atLeast(1)},
		"a poll that failed":               {"ebb_poller_polls_total", map[string]string{"scaler": "rabbitmq", "result": "error"}, atLeast(1)},
		"an unknown type is other":         {"ebb_poller_polls_total", map[string]string{"scaler": "other", "result": "error"}, atLeast(1)},
		"no series names the unknown type": {"ebb_poller_polls_total", map[string]string{"scaler": "nosuch"}, equal(0)},
		"poll durations by scaler":         {"ebb_poller_poll_duration_seconds", map[string]string{"scaler": "rabbitmq"}, atLeast(2)},
		"every reading published":          {"ebb_poller_readings_published_total", map[string]string{"result": "ok"}, atLeast(3)},
		"wake-ups by scaler":               {"ebb_poller_wakeups_total", map[string]string{"scaler": "rabbitmq"}, atLeast(2)},
		"the triggers this replica polls":  {"ebb_poller_triggers_owned", nil, equal(3)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			waitFor(t, name, 2*time.Second, func() bool { return tc.want(sample(t, reg, tc.name, tc.labels)) })
		})
	}
	e.start(t, "p1")
	waitFor(t, "a rebalance when a second replica joins", 5*time.Second, func() bool {
		return sample(t, reg, "ebb_poller_rebalances_total", nil) >= 1
	})
	p.Delete(so)
	waitFor(t, "no trigger owned once the object is deleted", 2*time.Second, func() bool {
		return sample(t, reg, "ebb_poller_triggers_owned", nil) == 0
	})
}

func atLeast(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }
func equal(n float64) func(float64) bool   { return func(v float64) bool { return v == n } }

// sample sums the series of name in reg whose labels include labels: counter and gauge
// values, histogram sample counts.
func sample(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}
