package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestOpsServesHealthReadinessAndMetrics(t *testing.T) {
	f := addOpsFlags(flag.NewFlagSet("ops", flag.ContinueOnError))
	f.healthAddr, f.metricsAddr = freeAddr(t), freeAddr(t)
	polls := prometheus.NewCounter(prometheus.CounterOpts{Name: "ebb_test_polls_total", Help: "A service's own."})
	f.registry.MustRegister(polls)
	polls.Inc()
	var connected atomic.Bool
	if err := f.serve(t.Context(), busReady(connected.Load), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	get := func(addr, path string) (int, string) {
		t.Helper()
		client := http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(f.healthAddr, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, body := get(f.healthAddr, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not connected to the bus") {
		t.Errorf("/readyz before the bus = %d %q, want 503 naming the bus", code, body)
	}
	connected.Store(true)
	if code, _ := get(f.healthAddr, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz connected = %d, want 200", code)
	}
	code, body := get(f.metricsAddr, "/metrics")
	for _, want := range []string{"go_goroutines", "ebb_test_polls_total 1"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics = %d without %q", code, want)
		}
	}
}

func TestOpsOffByDefault(t *testing.T) {
	f := addOpsFlags(flag.NewFlagSet("ops", flag.ContinueOnError))
	if err := f.serve(t.Context(), func() error { return errors.New("never asked") }, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("serve with both off: %v", err)
	}
}
