package poller

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"ebb.dev/schemas/msg"
)

// Metrics are the poller's Prometheus collectors. Labels are bounded: a scaler label is a
// trigger type this replica has a scaler for, or "other"; no object is ever named.
type Metrics struct {
	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec
	published    *prometheus.CounterVec
	wakeUps      *prometheus.CounterVec
	triggers     prometheus.Gauge
	rebalances   prometheus.Counter
}

// NewMetrics builds the poller's collectors and registers them with reg; a nil reg registers
// them nowhere (tests, benchmarks). Registering twice on one registry panics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		polls: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_poller_polls_total",
			Help: "Polls of a trigger's source, by scaler (trigger type) and result (ok or error).",
		}, []string{"scaler", "result"}),
		pollDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ebb_poller_poll_duration_seconds",
			Help:    "Time one poll took, resolving credentials and reading the source, by scaler.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"scaler"}),
		published: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_poller_readings_published_total",
			Help: "Readings published to the bus, by result (ok, or error when the bus did not store it).",
		}, []string{"result"}),
		wakeUps: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_poller_wakeups_total",
			Help: "Push wake-ups a source announced (each may bring a poll outside the schedule), by scaler.",
		}, []string{"scaler"}),
		triggers: f.NewGauge(prometheus.GaugeOpts{
			Name: "ebb_poller_triggers_owned",
			Help: "Triggers this replica polls now: its share of its group's triggers.",
		}),
		rebalances: f.NewCounter(prometheus.CounterOpts{
			Name: "ebb_poller_rebalances_total",
			Help: "Changes of the pollers' membership this replica followed, each moving triggers in or out of its share.",
		}),
	}
}

// scalerLabel bounds the scaler label: a trigger type the spec names but no scaler builds
// (a typo, a type of a newer version) counts as "other", so user input cannot mint series.
func scalerLabel(kinds []string, kind string) string {
	if slices.Contains(kinds, kind) {
		return kind
	}
	return "other"
}

// polled counts one poll of a trigger of kind that took d and read r.
func (m *Metrics) polled(kind string, r msg.Reading, d time.Duration) {
	result := "ok"
	if r.Error != "" {
		result = "error"
	}
	m.polls.WithLabelValues(kind, result).Inc()
	m.pollDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// publishedReading counts one reading handed to the bus; err is what the bus said.
func (m *Metrics) publishedReading(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.published.WithLabelValues(result).Inc()
}
