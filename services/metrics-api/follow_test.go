package metricsapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/metrics-api/provider"
)

func decision(kind msg.Kind, name string, value float64, at time.Time) msg.Decision {
	return msg.Decision{
		Schema:          msg.DecisionSchema,
		Object:          msg.ObjectRef{Namespace: "shop", Kind: kind, Name: name, UID: "u", Generation: 1},
		DesiredReplicas: 1, Active: true, Reason: msg.ReasonHPA,
		Inputs:          []msg.Reading{},
		Metrics:         []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: value}},
		PollingInterval: 30,
		DecidedAt:       at,
		Decider:         "decider-0",
	}
}

// follow runs Follow into a new store until stop is called (or the test ends).
func follow(t *testing.T, b *bustest.Bus) (store *provider.Store, stop func()) {
	t.Helper()
	store = provider.NewStore(time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	conn := b.Connect(t, bus.RoleMetricsAPI) // its Close cleanup must run after stop's
	go func() { done <- Follow(ctx, conn, store, bustest.Logger(t)) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	}
	t.Cleanup(stop)
	return store, stop
}

func waitForValue(t *testing.T, store *provider.Store, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := store.Get(provider.Key{Namespace: "shop", Name: name}, "s0-rabbitmq-orders")
		if err == nil && v.Value == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: value %v (err %v), want %v", name, v.Value, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFollowServesDecisionsLiveAndResumes(t *testing.T) {
	b := bustest.Start(t)
	decider := b.Connect(t, bus.RoleDecider)
	ctx := t.Context()
	now := time.Now()

	job := decision(msg.ScaledJob, "batch", 7, now)
	job.Reason, job.Jobs = msg.ReasonJobs, &msg.Jobs{Create: 1}

	live, stop := follow(t, b)
	// In stream order: once 40 is served, the ScaledJob's decision has been handled too.
	for _, d := range []msg.Decision{
		job,
		decision(msg.ScaledObject, "orders", 100, now),
		decision(msg.ScaledObject, "orders", 40, now.Add(time.Second)),
	} {
		if err := decider.Publish(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	waitForValue(t, live, "orders", 40)
	if _, err := live.Get(provider.Key{Namespace: "shop", Name: "batch"}, "s0-rabbitmq-orders"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("a ScaledJob's decision was served to the HPA (err %v)", err)
	}

	// A restarted metrics-api (here on a restarted bus too) starts from each object's last
	// decision, with nothing new published.
	stop()
	b.Restart(t)
	resumed, _ := follow(t, b)
	waitForValue(t, resumed, "orders", 40)
}

func TestFollowCountsValuesAndLag(t *testing.T) {
	b := bustest.Start(t)
	decider := b.Connect(t, bus.RoleDecider)
	now := time.Now()
	// Decided a minute before metrics-api started: replayed, no lag of this metrics-api's.
	if err := decider.Publish(t.Context(), decision(msg.ScaledObject, "old", 1, now.Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewPedanticRegistry())
	store := provider.NewStore(time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	conn := b.Connect(t, bus.RoleMetricsAPI)
	go func() { done <- followCounted(ctx, conn, store, m, time.Now, bustest.Logger(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("follow: %v", err)
		}
	})
	waitForValue(t, store, "old", 1)
	for _, d := range []msg.Decision{decision(msg.ScaledObject, "orders", 100, time.Now()), decision(msg.ScaledObject, "orders", 40, time.Now())} {
		if err := decider.Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	waitForValue(t, store, "orders", 40)

	var values, lag dto.Metric
	if err := m.values.Write(&values); err != nil {
		t.Fatal(err)
	}
	if err := m.lag.Write(&lag); err != nil {
		t.Fatal(err)
	}
	if got := values.GetGauge().GetValue(); got != 2 {
		t.Errorf("values held = %v, want 2 (one metric of each of two objects)", got)
	}
	if got := lag.GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("lag observed %d times, want 2 (the live decisions, not the replayed one)", got)
	}
}
