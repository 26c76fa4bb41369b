package decider

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// Metrics are the decider's Prometheus collectors. The only label is a decision's reason, one
// of msg.Reasons(); no object is ever named.
type Metrics struct {
	readings  prometheus.Counter
	decisions *prometheus.CounterVec
	latency   prometheus.Histogram
	objects   prometheus.Gauge
	lag       prometheus.Histogram
}

// NewMetrics builds the decider's collectors and registers them with reg; a nil reg registers
// them nowhere (tests, benchmarks). Registering twice on one registry panics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		readings: f.NewCounter(prometheus.CounterOpts{
			Name: "ebb_decider_readings_consumed_total",
			Help: "Readings received from the bus (every replica receives every reading).",
		}),
		decisions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_decider_decisions_total",
			Help: "Decisions published, by reason (activate, deactivate, cooldown, hpa, fallback, fast-path, …).",
		}, []string{"reason"}),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "ebb_decider_decision_latency_seconds",
			Help:    "From a reading's observedAt to the decision it brought on the bus (the oldest reading not yet decided on).",
			Buckets: bus.LagBuckets(),
		}),
		objects: f.NewGauge(prometheus.GaugeOpts{
			Name: "ebb_decider_objects_owned",
			Help: "ScaledObjects and ScaledJobs this replica decides: those in the partitions it holds.",
		}),
		lag: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "ebb_decider_bus_lag_seconds",
			Help:    "Age of a live reading when a worker takes it up: from its observedAt, through the bus and the worker's queue.",
			Buckets: bus.LagBuckets(),
		}),
	}
}

// published counts a decision published at now; pending is the observedAt of the oldest
// reading it is the first decision on (zero when no reading brought it: a timer, a spec change).
func (m *Metrics) published(reason msg.Reason, pending, now time.Time) {
	m.decisions.WithLabelValues(string(reason)).Inc()
	if !pending.IsZero() {
		m.latency.Observe(now.Sub(pending).Seconds())
	}
}
