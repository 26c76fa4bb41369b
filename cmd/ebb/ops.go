package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// opsFlags are where a service serves its health probes and Prometheus metrics (the actuator
// has its own, from controller-runtime). registry is what /metrics serves: the Go runtime's
// and the process's collectors, and the service's own, which it registers there.
type opsFlags struct {
	healthAddr, metricsAddr string
	registry                *prometheus.Registry
}

func addOpsFlags(fs *flag.FlagSet) *opsFlags {
	f := &opsFlags{registry: prometheus.NewRegistry()}
	f.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fs.StringVar(&f.healthAddr, "health-probe-bind-address", "0", "/healthz and /readyz (e.g. :8081); 0 turns them off")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", "0", "Prometheus /metrics (e.g. :8080); 0 turns them off")
	return f
}

// serve runs the health and metrics servers until ctx ends. ready reports why the service
// cannot take work yet (nil when it can); the process answering at all is its liveness.
func (f *opsFlags) serve(ctx context.Context, ready func() error, log *slog.Logger) error {
	health := http.NewServeMux()
	health.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	health.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	metrics := http.NewServeMux()
	metrics.Handle("GET /metrics", promhttp.HandlerFor(f.registry, promhttp.HandlerOpts{}))
	for _, s := range []struct {
		addr    string
		handler http.Handler
	}{{f.healthAddr, health}, {f.metricsAddr, metrics}} {
		if s.addr == "0" || s.addr == "" {
			continue
		}
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("serve %s: %w", s.addr, err)
		}
		srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("ops server", "addr", s.addr, "error", err)
			}
		}()
		go func() {
			<-ctx.Done()
			shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
		}()
	}
	return nil
}

// busReady is ready while conn is connected to the bus.
func busReady(connected func() bool) func() error {
	return func() error {
		if !connected() {
			return errors.New("not connected to the bus")
		}
		return nil
	}
}
