package actuator

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"k8s.io/utils/clock"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/apply"
)

// Metrics are the actuator's Prometheus collectors. Labels are bounded: an action's operation
// and result (msg.Operation, msg.Result), a write's verb and the resource the actuator wrote;
// no object is ever named.
type Metrics struct {
	actions   *prometheus.CounterVec
	writes    *prometheus.HistogramVec
	decisions prometheus.Counter
	lag       prometheus.Histogram
}

// NewMetrics builds the actuator's collectors and registers them with reg (controller-runtime's
// metrics.Registry, so /metrics serves them beside its own); a nil reg registers them nowhere
// (tests, benchmarks). Registering twice on one registry panics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		actions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ebb_actuator_actions_total",
			Help: "Operations on the cluster (the actions on the bus), by operation (scale, hpa-create, job-create, status, …) and result (ok or failed).",
		}, []string{"operation", "result"}),
		writes: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ebb_actuator_api_write_duration_seconds",
			Help:    "Requests that write to the API server, by verb (create, update, patch, delete) and resource (e.g. deployments/scale, scaledobjects/status, leases).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"verb", "resource"}),
		decisions: f.NewCounter(prometheus.CounterOpts{
			Name: "ebb_actuator_decisions_consumed_total",
			Help: "Decisions received from the bus by the leader (the newest per object is applied).",
		}),
		lag: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "ebb_actuator_bus_lag_seconds",
			Help:    "Age of a decision when the leader receives it: from its decidedAt, through the bus (decisions made before the leader started consuming are left out).",
			Buckets: bus.LagBuckets(),
		}),
	}
}

// countActions counts each action as it is recorded, then hands it on.
type countActions struct {
	next action.Recorder
	m    *Metrics
}

var _ action.Recorder = countActions{}

func (c countActions) Record(a msg.Action, err error) {
	result := msg.ResultOK
	if err != nil {
		result = msg.ResultFailed
	}
	c.m.actions.WithLabelValues(string(a.Operation), string(result)).Inc()
	c.next.Record(a, err)
}

// countDecisions counts the decisions a Source delivers and their age.
type countDecisions struct {
	next  apply.Source
	m     *Metrics
	clock clock.PassiveClock
}

var _ apply.Source = countDecisions{}

func (c countDecisions) Decisions(ctx context.Context, handle func(msg.Decision)) error {
	start := c.clock.Now()
	return c.next.Decisions(ctx, func(d msg.Decision) {
		c.m.decisions.Inc()
		if d.DecidedAt.After(start) { // older ones are the replay of each object's last decision
			c.m.lag.Observe(c.clock.Since(d.DecidedAt).Seconds())
		}
		handle(d)
	})
}

// timeWrites times the requests of next that write.
func (m *Metrics) timeWrites(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		verb := writeVerb(r.Method)
		if verb == "" {
			return next.RoundTrip(r)
		}
		start := time.Now()
		resp, err := next.RoundTrip(r)
		m.writes.WithLabelValues(verb, apiResource(r.URL.Path)).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// writeVerb is the Kubernetes verb of an HTTP method that writes, "" for one that reads.
func writeVerb(method string) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return ""
}

// apiResource is the resource (with its subresource) a request path names:
// /apis/apps/v1/namespaces/shop/deployments/web/scale is "deployments/scale". A path of
// another shape is "other".
func apiResource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:] // api, v1
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:] // apis, group, version
	default:
		return "other"
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:] // a namespaced resource, not a namespace itself
	}
	resource := parts[0]
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	return resource
}
