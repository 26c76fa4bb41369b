package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// Paths the webhook serves, one per kind, as named in the ValidatingWebhookConfiguration.
const (
	PathScaledObject                 = "/validate-keda-sh-v1alpha1-scaledobject"
	PathScaledJob                    = "/validate-keda-sh-v1alpha1-scaledjob"
	PathTriggerAuthentication        = "/validate-keda-sh-v1alpha1-triggerauthentication"
	PathClusterTriggerAuthentication = "/validate-keda-sh-v1alpha1-clustertriggerauthentication"
)

// Where the certificates are kept by default: the install's namespace, and the name the
// actuator's role grants.
const (
	DefaultSecretNamespace = "ebb-system"
	DefaultSecretName      = "ebb-webhook-certs"
)

// Config of the webhook server; zero values mean the defaults.
type Config struct {
	// Addr to listen on; ":9443" by default.
	Addr string
	// DNSNames (or IP addresses) the serving certificate is valid for, e.g.
	// ebb-actuator.ebb-system.svc.
	DNSNames []string
	// ConfigurationName is the ValidatingWebhookConfiguration whose caBundle the server keeps
	// current; empty leaves every configuration alone.
	ConfigurationName string
	// SecretNamespace and SecretName name the Secret that holds the CA and the serving
	// certificate, which every replica serves; "ebb-system" and "ebb-webhook-certs" by default.
	// The actuator's role grants get and update on that name only.
	SecretNamespace string
	SecretName      string
	// CertValidity of each generated CA and certificate; one year by default. Renewed after 2/3.
	CertValidity time.Duration
	// Resync is how often the Secret (renewed by any replica) and the published caBundle are checked;
	// one minute by default.
	Resync time.Duration
}

// Validate reports a configuration the server cannot run with.
func (c Config) Validate() error {
	if len(c.DNSNames) == 0 {
		return errors.New("webhook: DNSNames must name at least one host for the serving certificate")
	}
	if c.CertValidity < 0 || c.Resync < 0 {
		return errors.New("webhook: CertValidity and Resync must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":9443"
	}
	if c.CertValidity == 0 {
		c.CertValidity = 365 * 24 * time.Hour
	}
	if c.Resync == 0 {
		c.Resync = time.Minute
	}
	if c.SecretNamespace == "" {
		c.SecretNamespace = DefaultSecretNamespace
	}
	if c.SecretName == "" {
		c.SecretName = DefaultSecretName
	}
	return c
}

// Server is the validating webhook: TLS with a self-issued certificate that every replica
// shares through a Secret, four admission paths.
type Server struct {
	cfg     Config
	client  client.Client
	reg     *trigger.Registry
	decoder admission.Decoder
	logger  *slog.Logger
	rot     *rotator
}

// Option adjusts a Server for tests.
type Option func(*Server)

// WithClock replaces the clock that schedules certificate renewal.
func WithClock(c clock.WithTicker) Option { return func(s *Server) { s.rot.clock = c } }

// Scheme holds the kinds the webhook decodes and reads: client-go's and keda.sh/v1alpha1.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewClient is an uncached client over Scheme: admission reads must see the latest objects.
func NewClient(cfg *rest.Config) (client.Client, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: s})
}

// New builds a server that reads the cluster through c and parses triggers with reg.
func New(cfg Config, c client.Client, reg *trigger.Registry, logger *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, client: c, reg: reg, decoder: admission.NewDecoder(c.Scheme()), logger: logger}
	s.rot = &rotator{client: c, secret: client.ObjectKey{Namespace: cfg.SecretNamespace, Name: cfg.SecretName},
		configuration: cfg.ConfigurationName, hosts: cfg.DNSNames, validity: cfg.CertValidity, resync: cfg.Resync,
		clock: clock.RealClock{}, logger: logger}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Handler routes the four admission paths.
func (s *Server) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	log := logr.FromSlogHandler(s.logger.Handler())
	for path, h := range map[string]admission.HandlerFunc{
		PathScaledObject:                 s.scaledObject,
		PathScaledJob:                    s.scaledJob,
		PathTriggerAuthentication:        s.triggerAuthentication,
		PathClusterTriggerAuthentication: s.clusterTriggerAuthentication,
	} {
		hh, err := admission.StandaloneWebhook(&admission.Webhook{Handler: h}, admission.StandaloneOptions{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", path, err)
		}
		mux.Handle(path, hh)
	}
	return mux, nil
}

// Run listens on Config.Addr and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("webhook listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve loads the certificate from the Secret (creating it if no replica has), publishes the
// CA bundle and serves TLS on ln until ctx ends. A caBundle that cannot be published yet
// (configuration not created) is retried every Resync.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.rot.start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("webhook certificate: %w", err)
	}
	h, err := s.Handler()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{GetCertificate: s.rot.GetCertificate, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	go s.rot.run(ctx)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook serve: %w", err)
	}
	return nil
}

// CABundle is the PEM the API server must trust to call this server.
func (s *Server) CABundle() []byte { return s.rot.CABundle() }
