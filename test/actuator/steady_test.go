package actuator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator"
)

// TestSteadyStateCostsNoRequests is the guard against what starved KEDA at scale: decisions that
// change nothing (activity unchanged, replicas inside the HPA's range) must cost no request to
// the API server at all — no status write, no scale read.
func TestSteadyStateCostsNoRequests(t *testing.T) {
	const objects, rounds = 20, 3
	e := start(t, false)
	counter := &requestCounter{}
	cfg := e.config("steady")
	cfg.DisableWebhook = true
	e.runActuator(t, cfg, actuator.WithTransport(counter.wrap))

	ns := e.namespace(t, "steady")
	var sos []*v1alpha1.ScaledObject
	for i := range objects + 1 { // the last one is the probe
		name := fmt.Sprintf("app-%d", i)
		so := scaledObject(ns, name, &v1alpha1.ScaleTarget{Name: name})
		e.create(t, deployment(ns, name, 2), so)
		sos = append(sos, so)
	}
	probe := sos[objects]
	inRange := func(desired int32) func(*msg.Decision) {
		return func(d *msg.Decision) {
			d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonHPA, true, 2, desired
		}
	}
	for _, so := range sos {
		e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
		e.decide(t, so, msg.ScaledObject, inRange(3))
	}
	for _, so := range sos {
		e.condition(t, so, v1alpha1.ConditionActive, metav1.ConditionTrue)
	}

	// Setting up leaves reconciles behind (a status write that raced the warm-up decision is
	// retried); measure from the first quiet second on.
	counter.start(probe.Name)
	counter.quiet(t, time.Second, 15*time.Second)
	for r := range rounds {
		for _, so := range sos[:objects] {
			e.decide(t, so, msg.ScaledObject, inRange(int32(2+r)))
		}
	}
	// The probe's decision comes last and does change its status, so its status write shows
	// that the applier got through the rounds before it.
	e.decide(t, probe, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonCooldown, false, 2, 2
	})
	e.condition(t, probe, v1alpha1.ConditionActive, metav1.ConditionFalse)
	// A last window for a late request to show up.
	e.never(t, "decisions that changed nothing cost API requests", time.Second, func(context.Context) bool { return len(counter.seen()) > 0 })
	if got := counter.seen(); len(got) > 0 {
		t.Errorf("%d decisions that changed nothing cost %d API requests, want 0:\n%s", objects*rounds, len(got), strings.Join(got, "\n"))
	}
}

// requestCounter records the actuator's requests once started, leaving out watches (the
// cache's standing streams), the Lease and anything about the probe object.
type requestCounter struct {
	mu      sync.Mutex
	on      bool
	exclude string
	reqs    []string
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		c.note(r)
		return rt.RoundTrip(r)
	})
}

func (c *requestCounter) note(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	path := r.URL.Path
	if !c.on || r.URL.Query().Get("watch") == "true" || strings.Contains(path, "/leases/") || strings.Contains(path, "/"+c.exclude) {
		return
	}
	c.reqs = append(c.reqs, r.Method+" "+path)
}

func (c *requestCounter) start(exclude string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.exclude = true, exclude
}

// quiet waits until a whole window passes without a request, then forgets what it saw.
func (c *requestCounter) quiet(t *testing.T, window, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for n := -1; ; {
		seen := len(c.seen())
		if seen == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the actuator never went quiet: %d requests", seen)
		}
		n = seen
		time.Sleep(window)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = nil
}

func (c *requestCounter) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.reqs...)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
