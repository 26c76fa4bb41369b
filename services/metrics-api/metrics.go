package metricsapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"ebb.dev/bus"
	"ebb.dev/services/metrics-api/provider"
)

// Metrics are the metrics API's Prometheus collectors. The only label is a request's result,
// one of the provider.Result values; no object or metric is ever named.
type Metrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
	values   prometheus.Gauge
	lag      prometheus.Histogram
}

// NewMetrics builds the metrics API's collectors and registers them with reg; a nil reg
// registers them nowhere (tests, benchmarks). Registering twice on one registry panics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_metrics_api_requests_total",
			Help: "GetExternalMetric requests (the HPA's), by result: ok, not-found, stale, failing, bad-request.",
		}, []string{"result"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "ebb_metrics_api_request_duration_seconds",
			Help:    "Time to answer one GetExternalMetric request from memory (the API server's own handling excluded).",
			Buckets: []float64{.00001, .0001, .001, .01, .1, 1},
		}),
		values: f.NewGauge(prometheus.GaugeOpts{
			Name: "ebb_metrics_api_values",
			Help: "Metric values held to serve: one per metric of each ScaledObject decided.",
		}),
		lag: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "ebb_metrics_api_bus_lag_seconds",
			Help:    "Age of a decision when its values are taken in: from its decidedAt, through the bus (the replay of last decisions on start is left out).",
			Buckets: bus.LagBuckets(),
		}),
	}
}

// request counts one answered request.
func (m *Metrics) request(r provider.Result, took time.Duration) {
	m.requests.WithLabelValues(string(r)).Inc()
	m.duration.Observe(took.Seconds())
}
