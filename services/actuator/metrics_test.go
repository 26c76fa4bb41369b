package actuator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"ebb.dev/schemas/msg"
)

func TestAPIResource(t *testing.T) {
	tests := map[string]struct {
		path, want string
	}{
		"a core resource":                   {"/api/v1/namespaces/shop/pods", "pods"},
		"a named core resource":             {"/api/v1/namespaces/shop/events/e1", "events"},
		"a namespace itself":                {"/api/v1/namespaces/shop", "namespaces"},
		"a group resource":                  {"/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers", "horizontalpodautoscalers"},
		"a subresource":                     {"/apis/apps/v1/namespaces/shop/deployments/web/scale", "deployments/scale"},
		"a status subresource":              {"/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/orders/status", "scaledobjects/status"},
		"a cluster-scoped resource":         {"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ebb-admission", "validatingwebhookconfigurations"},
		"a path that names no resource":     {"/healthz", "other"},
		"a group path without a resource":   {"/apis/apps/v1", "other"},
		"an object's name is never a label": {"/apis/coordination.k8s.io/v1/namespaces/ebb-system/leases/ebb-actuator", "leases"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := apiResource(tc.path); got != tc.want {
				t.Errorf("apiResource(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// TestMetrics checks each collector against what went through the piece it wraps.
func TestMetrics(t *testing.T) {
	m := NewMetrics(prometheus.NewPedanticRegistry())

	// API writes: a real HTTP round trip; reads are not timed.
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	client := http.Client{Transport: m.timeWrites(http.DefaultTransport)}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPut, http.MethodPost} {
		req, err := http.NewRequest(method, srv.URL+"/apis/apps/v1/namespaces/shop/deployments/web/scale", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// Actions, as the reconcilers and the applier record them.
	var handed []msg.Action
	actions := countActions{next: recorder(func(a msg.Action, _ error) { handed = append(handed, a) }), m: m}
	actions.Record(msg.Action{Operation: msg.OpScale}, nil)
	actions.Record(msg.Action{Operation: msg.OpScale}, errors.New("conflict"))
	actions.Record(msg.Action{Operation: msg.OpHPACreate}, nil)

	// Decisions: the replay of a last decision made before the leader started, then a live one.
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC))
	var applied int
	decisions := countDecisions{next: source(func(handle func(msg.Decision)) {
		handle(msg.Decision{DecidedAt: clock.Now().Add(-time.Hour)})
		live := clock.Now().Add(time.Second)
		clock.SetTime(live.Add(250 * time.Millisecond))
		handle(msg.Decision{DecidedAt: live})
	}), m: m, clock: clock}
	if err := decisions.Decisions(t.Context(), func(msg.Decision) { applied++ }); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		metric prometheus.Collector
		want   float64
	}{
		"updates of a scale":            {m.writes.WithLabelValues("update", "deployments/scale").(prometheus.Collector), 2},
		"a create of a scale":           {m.writes.WithLabelValues("create", "deployments/scale").(prometheus.Collector), 1},
		"writes alone timed":            {m.writes, 3},
		"scales that went through":      {m.actions.WithLabelValues("scale", "ok"), 1},
		"a scale that failed":           {m.actions.WithLabelValues("scale", "failed"), 1},
		"an HPA created":                {m.actions.WithLabelValues("hpa-create", "ok"), 1},
		"every decision received":       {m.decisions, 2},
		"the lag of the live one alone": {m.lag, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := value(t, tc.metric); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if len(handed) != 3 || applied != 2 {
		t.Errorf("%d actions and %d decisions handed on, want 3 and 2", len(handed), applied)
	}
	var lag dto.Metric
	if err := m.lag.Write(&lag); err != nil || lag.GetHistogram().GetSampleSum() != 0.25 {
		t.Errorf("lag = %v s (error %v), want 0.25 s", lag.GetHistogram().GetSampleSum(), err)
	}
}

type recorder func(msg.Action, error)

func (r recorder) Record(a msg.Action, err error) { r(a, err) }

type source func(handle func(msg.Decision))

func (s source) Decisions(_ context.Context, handle func(msg.Decision)) error {
	s(handle)
	return nil
}

// value sums what c collects: counters' and gauges' values, histograms' sample counts.
func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		sum += d.GetCounter().GetValue() + d.GetGauge().GetValue() + float64(d.GetHistogram().GetSampleCount())
	}
	return sum
}
