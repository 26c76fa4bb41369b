package metricsapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/cmd/options"

	"ebb.dev/bus"
	"ebb.dev/services/metrics-api/provider"
)

// Config is the metrics API server's configuration; zero values mean the defaults.
type Config struct {
	// BindAddress and Port are where the server listens for the aggregation layer
	// (default 0.0.0.0:6443).
	BindAddress string
	Port        int
	// TLSCertFile and TLSKeyFile serve a certificate issued for the APIService's Service. When
	// empty, a self-signed certificate for localhost is generated into CertDir, whose .crt file
	// (certificate then CA) is what the APIService's caBundle must hold.
	TLSCertFile string
	TLSKeyFile  string
	CertDir     string
	// DNSNames are added to a generated certificate: the aggregator verifies the name
	// <service>.<namespace>.svc of the APIService's Service.
	DNSNames []string
	// Kubeconfig reaches the API server for delegated authentication and authorization;
	// empty means in-cluster.
	Kubeconfig string
	// StaleAfter is how many polling intervals a value stays servable (default 3).
	StaleAfter int
	// Bus is where decisions, and so the values to serve, come from (role metrics-api).
	Bus bus.ClientConfig
	// Metrics count requests, the values held and the decisions' lag; default
	// NewMetrics(nil), registered nowhere.
	Metrics *Metrics
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("port %d: must be 0-65535", c.Port)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("tls-cert-file and tls-key-file go together")
	}
	if c.BindAddress != "" && net.ParseIP(c.BindAddress) == nil {
		return fmt.Errorf("bind-address %q: not an IP address", c.BindAddress)
	}
	if c.StaleAfter < 0 {
		return fmt.Errorf("stale-after %d: must not be negative", c.StaleAfter)
	}
	return nil
}

// Run serves the values of the decisions on the bus until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	srv, err := NewServer(cfg, log)
	if err != nil {
		return err
	}
	conn, err := bus.Connect(ctx, cfg.Bus)
	if err != nil {
		return fmt.Errorf("metrics-api: %w", err)
	}
	defer conn.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return followCounted(ctx, conn, srv.Store, srv.metrics, time.Now, log) })
	g.Go(func() error { return srv.Run(ctx) })
	g.Go(func() error {
		// Asynchronous bus errors (a denied subscription, a slow consumer) are the operator's
		// to see; the service keeps serving what it has.
		for {
			select {
			case <-ctx.Done():
				return nil
			case err := <-conn.Err():
				log.Error("bus", "error", err)
			}
		}
	})
	return g.Wait()
}

// Server serves external.metrics.k8s.io from a provider.Store.
type Server struct {
	Store   *provider.Store
	adapter *cmd.AdapterBase
	metrics *Metrics
	log     *slog.Logger
}

// NewServer builds the API server; Run starts it.
func NewServer(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("metrics-api config: %w", err)
	}
	store := provider.NewStore(time.Now)
	store.StaleAfter = cfg.StaleAfter
	m := cfg.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}

	opts := options.NewCustomMetricsAdapterServerOptions()
	if cfg.BindAddress != "" {
		opts.SecureServing.BindAddress = net.ParseIP(cfg.BindAddress)
	}
	opts.SecureServing.BindPort = cfg.Port
	if opts.SecureServing.BindPort == 0 {
		opts.SecureServing.BindPort = 6443
	}
	opts.SecureServing.ServerCert.CertKey.CertFile = cfg.TLSCertFile
	opts.SecureServing.ServerCert.CertKey.KeyFile = cfg.TLSKeyFile
	opts.SecureServing.ServerCert.CertDirectory = cfg.CertDir
	opts.SecureServing.ServerCert.PairName = "metrics-api"
	// Generate now, with the Service's names; the adapter's own defaulting would name only localhost.
	if err := opts.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", cfg.DNSNames, []net.IP{net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, fmt.Errorf("metrics-api certificate: %w", err)
	}
	opts.Authentication.RemoteKubeConfigFile = cfg.Kubeconfig
	opts.Authorization.RemoteKubeConfigFile = cfg.Kubeconfig
	// The API server's own health checks must not need a token.
	opts.Authorization.AlwaysAllowPaths = []string{"/healthz", "/readyz", "/livez"}

	adapter := &cmd.AdapterBase{
		Name:                              "ebb-metrics-api",
		CustomMetricsAdapterServerOptions: opts,
		RemoteKubeConfigFile:              cfg.Kubeconfig,
		// Its own flag set: the adapter must never register flags on the process's globals.
		FlagSet: pflag.NewFlagSet("metrics-api", pflag.ContinueOnError),
	}
	adapter.WithExternalMetrics(provider.New(store, provider.WithObserver(m.request)))
	if _, err := adapter.Server(); err != nil {
		return nil, fmt.Errorf("build metrics-api server: %w", err)
	}
	return &Server{Store: store, adapter: adapter, metrics: m, log: log}, nil
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("serving external.metrics.k8s.io")
	if err := s.adapter.Run(ctx); err != nil {
		return fmt.Errorf("metrics-api: %w", err)
	}
	return nil
}
