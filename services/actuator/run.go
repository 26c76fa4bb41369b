package actuator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/apply"
	"ebb.dev/services/actuator/controller/scaledjob"
	"ebb.dev/services/actuator/controller/scaledobject"
	"ebb.dev/services/actuator/target"
	"ebb.dev/services/actuator/webhook"
)

// reconcileTimeout bounds one reconcile.
const reconcileTimeout = time.Minute

// Option adjusts Run for tests.
type Option func(*options)

type options struct {
	wrapScales    func(target.Scales) target.Scales
	wrapTransport func(http.RoundTripper) http.RoundTripper
}

// WithScales wraps the client that reads and writes scale subresources, so a test can act
// between a read and the write that follows it.
func WithScales(wrap func(target.Scales) target.Scales) Option {
	return func(o *options) { o.wrapScales = wrap }
}

// WithTransport wraps every request the actuator makes to the API server, so a test can see
// what a workload costs.
func WithTransport(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) { o.wrapTransport = wrap }
}

// Run runs the actuator until ctx ends or it loses its leadership (then it returns an error
// and its process should exit, so a fresh start rejoins as a standby).
func Run(ctx context.Context, cfg Config, logger *slog.Logger, opts ...Option) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	rc, err := restConfig(cfg)
	if err != nil {
		return err
	}
	rc.Wrap(cfg.Metrics.timeWrites)
	if o.wrapTransport != nil {
		rc.Wrap(o.wrapTransport)
	}
	busCfg := cfg.Bus
	if busCfg.Logger == nil {
		busCfg.Logger = logger
	}
	conn, err := bus.Connect(ctx, busCfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	mgr, err := newManager(rc, cfg, logger)
	if err != nil {
		return err
	}
	publisher := action.NewPublisher(conn, logger.With("component", "actions"))
	if err := mgr.Add(publisher); err != nil {
		return err
	}
	actions := countActions{next: publisher, m: cfg.Metrics}
	if !cfg.DisableWebhook {
		if err := addWebhook(mgr, rc, cfg.Webhook, logger); err != nil {
			return err
		}
	}
	scales, err := target.NewScales(rc, mgr.GetHTTPClient(), mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	if o.wrapScales != nil {
		scales = o.wrapScales(scales)
	}
	targets := target.New(mgr.GetRESTMapper(), scales)
	events := mgr.GetEventRecorder("ebb-actuator")
	so := &scaledobject.Reconciler{Client: mgr.GetClient(), Targets: targets, Triggers: trigger.Builtin(), Actions: actions, Events: events,
		SkipHPA: cfg.DisableHPA}
	if err := so.SetupWithManager(mgr, cfg.ReconcileWorkers); err != nil {
		return fmt.Errorf("set up ScaledObject reconciler: %w", err)
	}
	sj := &scaledjob.Reconciler{Client: mgr.GetClient(), Actions: actions, Events: events}
	if err := sj.SetupWithManager(mgr, cfg.ReconcileWorkers); err != nil {
		return fmt.Errorf("set up ScaledJob reconciler: %w", err)
	}
	applier := apply.New(apply.Config{Workers: cfg.Workers, LastActiveResolution: cfg.LastActiveResolution}, apply.Deps{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Targets: targets, Actions: actions, Events: events,
		Source: countDecisions{next: apply.BusSource{Conn: conn, Logger: logger}, m: cfg.Metrics, clock: clock.RealClock{}},
		Logger: logger.With("component", "apply"),
	})
	if err := mgr.Add(applier); err != nil {
		return err
	}
	logger.Info("actuator starting", "identity", cfg.LeaderElection.Identity, "leaderElection", !cfg.LeaderElection.Disabled)
	return mgr.Start(ctx)
}

func restConfig(cfg Config) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if cfg.Kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	} else {
		rc, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = cfg.QPS, cfg.Burst
	rc.UserAgent = "ebb-actuator"
	return rc, nil
}

func newManager(rc *rest.Config, cfg Config, logger *slog.Logger) (manager.Manager, error) {
	scheme, err := webhook.Scheme()
	if err != nil {
		return nil, err
	}
	// Only Jobs that ScaledJobs created are cached: a cluster's other Jobs are none of ebb's.
	ours, err := labels.NewRequirement(v1alpha1.ScaledJobNameLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	le := cfg.LeaderElection
	opts := manager.Options{
		Scheme:                 scheme,
		Logger:                 logr.FromSlogHandler(logger.Handler()),
		Metrics:                metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress: cfg.HealthAddr,
		Cache: cache.Options{
			// managedFields are most of a cached object's size and the actuator never reads
			// them; an update without them leaves the server's as they are.
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&batchv1.Job{}: {Label: labels.NewSelector().Add(*ours)},
			},
		},
		Controller: config.Controller{
			// Controller names are checked for uniqueness per process; tests run two actuators in one.
			SkipNameValidation: new(true),
			// A request hanging on a dead connection must not hold a reconcile worker for good.
			ReconciliationTimeout: reconcileTimeout,
		},
	}
	if !le.Disabled {
		lock, err := leaseLock(rc, le)
		if err != nil {
			return nil, err
		}
		opts.LeaderElection = true
		opts.LeaderElectionID = le.Name
		opts.LeaderElectionNamespace = le.Namespace
		opts.LeaderElectionResourceLockInterface = lock
		opts.LeaderElectionReleaseOnCancel = true
		opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = &le.LeaseDuration, &le.RenewDeadline, &le.RetryPeriod
	}
	mgr, err := ctrl.NewManager(rc, opts)
	if err != nil {
		return nil, fmt.Errorf("controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update,namespace=ebb-system

// leaseLock is the Lease with this replica's identity. Its requests time out well inside
// RenewDeadline, so one hung request cannot cost the leadership.
func leaseLock(rc *rest.Config, le LeaderElection) (resourcelock.Interface, error) {
	lc := rest.CopyConfig(rc)
	lc.UserAgent = "ebb-actuator-leader-election"
	lc.Timeout = max(le.RenewDeadline/2, time.Second)
	core, err := corev1.NewForConfig(lc)
	if err != nil {
		return nil, fmt.Errorf("leader election client: %w", err)
	}
	coord, err := coordinationv1.NewForConfig(lc)
	if err != nil {
		return nil, fmt.Errorf("leader election client: %w", err)
	}
	return resourcelock.New(resourcelock.LeasesResourceLock, le.Namespace, le.Name, core, coord,
		resourcelock.ResourceLockConfig{Identity: le.Identity})
}

// everyReplica runs a function on every replica, leader or not.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

func addWebhook(mgr manager.Manager, rc *rest.Config, cfg webhook.Config, logger *slog.Logger) error {
	wc, err := webhook.NewClient(rc)
	if err != nil {
		return fmt.Errorf("webhook client: %w", err)
	}
	srv, err := webhook.New(cfg, wc, trigger.Builtin(), logger.With("component", "webhook"))
	if err != nil {
		return err
	}
	return mgr.Add(everyReplica(srv.Run))
}
