package actuator

import (
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"ebb.dev/bus"
	"ebb.dev/services/actuator/webhook"
)

// Config of the actuator; zero values mean the defaults.
type Config struct {
	// Kubeconfig is the kubeconfig file to use; empty means $KUBECONFIG, the in-cluster
	// service account, or ~/.kube/config, in that order.
	Kubeconfig string
	// QPS and Burst limit requests to the API server. The defaults (300, 600) let 10,000
	// ScaledObjects be set up in minutes; steady state costs next to nothing, since the
	// actuator reads from its cache and writes only on change.
	QPS   float32
	Burst int
	// Bus is how the actuator reaches the bus, as the actuator role.
	Bus bus.ClientConfig
	// LeaderElection makes one replica the only writer.
	LeaderElection LeaderElection
	// Webhook is the admission webhook every replica serves, unless DisableWebhook. Its
	// certificates are kept in LeaderElection.Namespace unless Webhook.SecretNamespace is set.
	Webhook        webhook.Config
	DisableWebhook bool
	// DisableHPA leaves HPAs alone: none is created, updated or deleted. For benchmarks only,
	// where kube-controller-manager is off and HPAs would cost the API server and nothing else.
	DisableHPA bool
	// Workers apply decisions for different objects at once; 16 by default.
	Workers int
	// ReconcileWorkers reconcile different ScaledObjects (and ScaledJobs) at once; 4 by default.
	ReconcileWorkers int
	// LastActiveResolution bounds how often status.lastActiveTime is rewritten while an object
	// stays active (it is always written when activity changes); one minute by default.
	LastActiveResolution time.Duration
	// MetricsAddr serves Prometheus metrics, HealthAddr /healthz and /readyz; ":8080" and
	// ":8081" by default, "0" turns either off.
	MetricsAddr string
	HealthAddr  string
	// Metrics count actions, API writes and decisions; default NewMetrics(nil), registered
	// nowhere. Register them on controller-runtime's metrics.Registry to serve them at MetricsAddr.
	Metrics *Metrics
}

// LeaderElection is the Lease that picks the one replica that writes. The defaults are short,
// so a standby takes over within seconds: a leader that stops releases the Lease at once,
// one that dies is replaced LeaseDuration + RetryPeriod later.
type LeaderElection struct {
	Disabled  bool   // every replica writes: for a single replica only
	Namespace string // of the Lease; "ebb-system" by default
	Name      string // of the Lease; "ebb-actuator" by default
	Identity  string // of this replica in the Lease; hostname_<random> by default
	// LeaseDuration (6 s), RenewDeadline (4 s) and RetryPeriod (1 s) by default.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// Defaults.
const (
	DefaultQPS              = 300
	DefaultBurst            = 600
	DefaultWorkers          = 16
	DefaultReconcileWorkers = 4
	DefaultLeaseNamespace   = "ebb-system"
	DefaultLeaseName        = "ebb-actuator"
	DefaultLeaseDuration    = 6 * time.Second
	DefaultRenewDeadline    = 4 * time.Second
	DefaultRetryPeriod      = time.Second
)

// Validate reports a configuration the actuator cannot run with, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.QPS < 0 || c.Burst < 0 {
		errs = append(errs, errors.New("actuator: QPS and Burst must not be negative"))
	}
	if c.Workers < 0 || c.ReconcileWorkers < 0 {
		errs = append(errs, errors.New("actuator: Workers and ReconcileWorkers must not be negative"))
	}
	if c.LastActiveResolution < 0 {
		errs = append(errs, errors.New("actuator: LastActiveResolution must not be negative"))
	}
	if c.Bus.URL == "" {
		errs = append(errs, errors.New("actuator: Bus.URL must be set"))
	}
	if !c.DisableWebhook {
		if err := c.Webhook.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("actuator: %w", err))
		}
	}
	errs = append(errs, c.LeaderElection.validate())
	return errors.Join(errs...)
}

func (l LeaderElection) validate() error {
	if l.Disabled {
		return nil
	}
	if l.LeaseDuration < 0 || l.RenewDeadline < 0 || l.RetryPeriod < 0 {
		return errors.New("actuator: LeaderElection durations must not be negative")
	}
	l = l.withDefaults()
	if l.LeaseDuration <= l.RenewDeadline || l.RenewDeadline <= l.RetryPeriod {
		return fmt.Errorf("actuator: LeaderElection needs LeaseDuration (%s) > RenewDeadline (%s) > RetryPeriod (%s)",
			l.LeaseDuration, l.RenewDeadline, l.RetryPeriod)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.QPS == 0 {
		c.QPS = DefaultQPS
	}
	if c.Burst == 0 {
		c.Burst = DefaultBurst
	}
	if c.Bus.User == "" {
		c.Bus.User = string(bus.RoleActuator)
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.ReconcileWorkers == 0 {
		c.ReconcileWorkers = DefaultReconcileWorkers
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = ":8080"
	}
	if c.HealthAddr == "" {
		c.HealthAddr = ":8081"
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	c.LeaderElection = c.LeaderElection.withDefaults()
	if c.Webhook.SecretNamespace == "" {
		// The Lease's namespace is the actuator's own, where its role may keep the Secret.
		c.Webhook.SecretNamespace = c.LeaderElection.Namespace
	}
	return c
}

func (l LeaderElection) withDefaults() LeaderElection {
	if l.Namespace == "" {
		l.Namespace = DefaultLeaseNamespace
	}
	if l.Name == "" {
		l.Name = DefaultLeaseName
	}
	if l.Identity == "" {
		host, _ := os.Hostname()
		l.Identity = host + "_" + string(uuid.NewUUID())
	}
	if l.LeaseDuration == 0 {
		l.LeaseDuration = DefaultLeaseDuration
	}
	if l.RenewDeadline == 0 {
		l.RenewDeadline = DefaultRenewDeadline
	}
	if l.RetryPeriod == 0 {
		l.RetryPeriod = DefaultRetryPeriod
	}
	return l
}
