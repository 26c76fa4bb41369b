package actuator

import (
	"context"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// TestAPIServerOutage cuts the actuator off the API server while decisions keep coming: once
// the API server is back, only the newest decision is applied, once, and status agrees.
func TestAPIServerOutage(t *testing.T) {
	e := start(t, false)
	p := newCutProxy(t, e.cluster.APIServerURL)
	cfg := e.config("cut-off")
	cfg.Kubeconfig = p.kubeconfig(t, e.actuatorKubeconfig)
	cfg.DisableWebhook = true
	// A leader cut off for longer than RenewDeadline steps down and its process restarts; this
	// test is about what one process does across the outage, so it runs without election.
	cfg.LeaderElection.Disabled = true
	e.runActuator(t, cfg)

	ns := e.namespace(t, "outage")
	dep := deployment(ns, "consumer", 0)
	so := scaledObject(ns, "consumer", &v1alpha1.ScaleTarget{Name: "consumer"})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)

	p.cut()
	for _, d := range []struct {
		reason  msg.Reason
		active  bool
		desired int32
	}{{msg.ReasonActivate, true, 1}, {msg.ReasonDeactivate, false, 0}, {msg.ReasonActivate, true, 1}} {
		e.decide(t, so, msg.ScaledObject, func(m *msg.Decision) {
			m.Reason, m.Active, m.CurrentReplicas, m.DesiredReplicas = d.reason, d.active, 0, d.desired
		})
	}
	e.actions.wait(t, so, msg.OpScale, func(a msg.Action) bool { return a.Result == msg.ResultFailed })
	if n, _ := e.specReplicas(t.Context(), dep); n != 0 {
		t.Fatalf("replicas changed to %d while the actuator was cut off", n)
	}
	p.restore(t)

	e.replicas(t, dep, 1)
	e.condition(t, so, v1alpha1.ConditionActive, metav1.ConditionTrue)
	e.never(t, "the target flapped after the outage", 2*time.Second, func(ctx context.Context) bool {
		n, err := e.specReplicas(ctx, dep)
		return err == nil && n != 1
	})
	var writes []msg.Action
	for _, a := range e.actions.match(ns, so.Name, msg.OpScale) {
		if a.Result == msg.ResultOK {
			writes = append(writes, a)
		}
	}
	if len(writes) != 1 || *writes[0].From != 0 || *writes[0].To != 1 {
		t.Errorf("successful scale writes %+v, want exactly one from 0 to 1", writes)
	}
}

// cutProxy forwards TCP to the API server until cut, when it drops every connection and stops
// listening, so connecting is refused as with a stopped API server, until restored.
type cutProxy struct {
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener // nil while cut
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, apiServerURL string) *cutProxy {
	t.Helper()
	u, err := url.Parse(apiServerURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String(), target: u.Host, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(c, up) {
		c.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// track remembers conns so cut can close them; false when the proxy is cut.
func (p *cutProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *cutProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serve(ln)
}

// kubeconfig writes a copy of a kubeconfig that reaches the API server through p.
func (p *cutProxy) kubeconfig(t *testing.T, orig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + p.addr
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
