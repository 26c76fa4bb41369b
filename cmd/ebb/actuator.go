package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"ebb.dev/bus"
	"ebb.dev/services/actuator"
	"ebb.dev/services/actuator/webhook"
)

// runActuator binds `ebb actuator` flags to an actuator.Config.
func runActuator(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("actuator", flag.ContinueOnError)
	shared := addServiceFlags(fs, bus.RoleActuator)
	var cfg actuator.Config
	le := &cfg.LeaderElection
	qps := fs.Float64("kube-api-qps", actuator.DefaultQPS, "requests per second to the API server")
	fs.IntVar(&cfg.Burst, "kube-api-burst", actuator.DefaultBurst, "request burst to the API server")
	fs.IntVar(&cfg.Workers, "workers", actuator.DefaultWorkers, "decisions applied at once (for different objects)")
	fs.IntVar(&cfg.ReconcileWorkers, "reconcile-workers", actuator.DefaultReconcileWorkers, "ScaledObjects and ScaledJobs reconciled at once")
	fs.DurationVar(&cfg.LastActiveResolution, "last-active-resolution", time.Minute, "how often status.lastActiveTime is rewritten while an object stays active")
	fs.StringVar(&cfg.MetricsAddr, "metrics-bind-address", ":8080", "Prometheus metrics; 0 turns them off")
	fs.StringVar(&cfg.HealthAddr, "health-probe-bind-address", ":8081", "/healthz and /readyz; 0 turns them off")
	leaderElect := fs.Bool("leader-elect", true, "elect one writer through a Lease (turn off only for a single replica)")
	fs.StringVar(&le.Namespace, "leader-election-namespace", actuator.DefaultLeaseNamespace, "namespace of the Lease")
	fs.StringVar(&le.Name, "leader-election-id", actuator.DefaultLeaseName, "name of the Lease")
	fs.StringVar(&le.Identity, "leader-election-identity", os.Getenv("POD_NAME"), "this replica in the Lease ($POD_NAME; hostname_<random> when empty)")
	fs.DurationVar(&le.LeaseDuration, "leader-election-lease-duration", actuator.DefaultLeaseDuration, "how long a standby waits on a silent leader")
	fs.DurationVar(&le.RenewDeadline, "leader-election-renew-deadline", actuator.DefaultRenewDeadline, "how long the leader keeps trying to renew before it steps down")
	fs.DurationVar(&le.RetryPeriod, "leader-election-retry-period", actuator.DefaultRetryPeriod, "how often the Lease is renewed or tried")
	serveWebhook := fs.Bool("webhook", true, "serve the validating admission webhook")
	manageHPA := fs.Bool("manage-hpa", true, "create and update each ScaledObject's HPA (false only for benchmarks without kube-controller-manager)")
	fs.StringVar(&cfg.Webhook.Addr, "webhook-bind-address", ":9443", "address the webhook listens on")
	dnsNames := fs.String("webhook-dns-names", "ebb-actuator-webhook.ebb-system.svc", "names in the webhook's certificate, comma-separated (its Service)")
	fs.StringVar(&cfg.Webhook.ConfigurationName, "webhook-configuration", "ebb-admission", "ValidatingWebhookConfiguration whose caBundle the webhook keeps current")
	fs.StringVar(&cfg.Webhook.SecretName, "webhook-secret", webhook.DefaultSecretName, "Secret, in the Lease's namespace, that holds the webhook's CA and certificate for every replica")
	fs.DurationVar(&cfg.Webhook.CertValidity, "webhook-cert-validity", 365*24*time.Hour, "validity of the webhook's self-issued CA and certificate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := shared.logger(os.Stderr)
	if err != nil {
		return err
	}
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	cfg.Kubeconfig = shared.kubeconfig
	cfg.Bus = shared.busConfig(log)
	cfg.QPS = float32(*qps)
	cfg.DisableWebhook = !*serveWebhook
	cfg.DisableHPA = !*manageHPA
	for _, name := range strings.Split(*dnsNames, ",") {
		if name = strings.TrimSpace(name); name != "" {
			cfg.Webhook.DNSNames = append(cfg.Webhook.DNSNames, name)
		}
	}
	le.Disabled = !*leaderElect
	if err := cfg.Validate(); err != nil {
		return err // before registering: controller-runtime's registry is the process's
	}
	cfg.Metrics = actuator.NewMetrics(metrics.Registry) // served beside controller-runtime's own
	return actuator.Run(ctx, cfg, log.With("service", "actuator"))
}
