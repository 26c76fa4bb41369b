package decider

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/decider/hpa"
	"ebb.dev/services/decider/kube"
	"ebb.dev/services/decider/partition"
)

// Cluster is what the decider reads from Kubernetes; *kube.Cluster is the real one.
type Cluster interface {
	// Watch delivers ScaledObjects, ScaledJobs and replica changes of scale targets to h.
	Watch(ctx context.Context, h kube.Handler) error
	// Replicas is a scale target's current spec.replicas with its pods that exist and are ready.
	Replicas(ctx context.Context, namespace string, t v1alpha1.ScaleTarget) (hpa.Pods, error)
	// Jobs counts a ScaledJob's running and pending Jobs.
	Jobs(ctx context.Context, namespace, scaledJob string, pendingPodConditions []string) (running, pending int32, err error)
}

var _ Cluster = (*kube.Cluster)(nil)

// Option changes how Run is wired; tests and benchmarks use them.
type Option func(*options)

type options struct {
	clock      clock.WithTicker
	leaseClock clock.WithTicker
	rest       *rest.Config
	cluster    Cluster
	conn       *bus.Conn
}

// WithClock sets the clock decisions are made by (cooldowns, intervals); default real.
func WithClock(c clock.WithTicker) Option { return func(o *options) { o.clock = c } }

// WithLeaseClock sets the clock the partition leases run on; default real. Guard turns the
// time a lease has left into a real deadline, so a fake one suits only tests that never wait
// on the bus for long.
func WithLeaseClock(c clock.WithTicker) Option { return func(o *options) { o.leaseClock = c } }

// WithRESTConfig reaches Kubernetes with rc instead of Config.Kubeconfig.
func WithRESTConfig(rc *rest.Config) Option { return func(o *options) { o.rest = rc } }

// WithCluster reads specs and replicas from c instead of the Kubernetes API.
func WithCluster(c Cluster) Option { return func(o *options) { o.cluster = c } }

// WithConn uses conn, a decider-role connection the caller owns, instead of dialing
// Config.Bus.
func WithConn(conn *bus.Conn) Option { return func(o *options) { o.conn = conn } }

// opTimeout bounds one bus or bucket operation.
const opTimeout = 10 * time.Second

// decider is one running replica: what its workers share.
type decider struct {
	cfg      Config
	clock    clock.WithTicker
	log      *slog.Logger
	conn     *bus.Conn
	state    state
	set      *partition.Set
	cluster  Cluster
	triggers *trigger.Registry
	metrics  *Metrics
	workers  []*worker
	ready    atomic.Bool // specs and stored readings are in: decisions may start
}

// Run decides this replica's share of the cluster's ScaledObjects and ScaledJobs until ctx
// ends. It returns an error only when it cannot start.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, opts ...Option) error {
	cfg = cfg.withDefaults()
	o := options{clock: clock.RealClock{}, leaseClock: clock.RealClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.validate(o.conn == nil); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &decider{cfg: cfg, clock: o.clock, log: logger.With("decider", cfg.ID), cluster: o.cluster, conn: o.conn,
		triggers: trigger.Builtin(), metrics: cfg.Metrics}
	if d.conn == nil {
		bc := cfg.Bus
		bc.Logger = logger
		conn, err := bus.Connect(ctx, bc)
		if err != nil {
			return err
		}
		defer conn.Close()
		d.conn = conn
	}
	if d.cluster == nil {
		k, err := startKube(ctx, cfg, o.rest)
		if err != nil {
			return err
		}
		d.cluster = k
	}
	kv, err := d.conn.JetStream().KeyValue(ctx, bus.DeciderBucket(d.conn.Prefix()))
	if err != nil {
		return fmt.Errorf("open decider bucket: %w", err)
	}
	d.state = state{kv: kv}
	return d.run(ctx, kv, o.leaseClock)
}

func startKube(ctx context.Context, cfg Config, rc *rest.Config) (*kube.Cluster, error) {
	if rc == nil {
		var err error
		rc, err = clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
	}
	k, err := kube.New(rc)
	if err != nil {
		return nil, err
	}
	if err := k.Start(ctx); err != nil {
		return nil, err
	}
	return k, k.Synced(ctx)
}

func (d *decider) run(ctx context.Context, kv jetstream.KeyValue, leaseClock clock.WithTicker) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range d.cfg.Workers {
		w := newWorker(d)
		d.workers = append(d.workers, w)
		wg.Go(func() { w.run(ctx) })
	}
	pc := d.cfg.partition()
	pc.Clock, pc.Log = leaseClock, d.log
	set, err := partition.Join(ctx, kv, pc)
	if err != nil {
		return err
	}
	d.set = set
	defer func() { cancel(); <-set.Done() }()
	// Specs first, then readings (live ones subscribed before the stored ones are read, so
	// none falls in between); only then do the workers decide, starting with every object of
	// the partitions held, so the first decisions see both.
	if err := d.cluster.Watch(ctx, handler{d}); err != nil {
		return err
	}
	sub, err := d.conn.Subscribe(ctx, d.conn.Prefix().All(msg.TypeReading), d.onReading)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := d.loadReadings(ctx); err != nil {
		return err
	}
	d.ready.Store(true)
	d.log.Info("decider started", "workers", d.cfg.Workers, "partitions", d.cfg.Partitions, "leaseTTL", d.cfg.LeaseTTL)
	d.follow(ctx)
	return nil
}

// follow tells the workers about partitions taken over, and logs the bus's asynchronous
// errors, until ctx ends.
func (d *decider) follow(ctx context.Context) {
	var held []int
	for {
		changed := d.set.Changed()
		now := d.set.Held()
		gained := map[int]bool{}
		for _, p := range now {
			if !slices.Contains(held, p) {
				gained[p] = true
			}
		}
		if len(gained) > 0 || len(now) != len(held) {
			d.log.Debug("partitions changed", "held", len(now), "gained", len(gained), "members", d.set.Members())
		}
		lost := map[int]bool{}
		for _, p := range held {
			if !slices.Contains(now, p) {
				lost[p] = true
			}
		}
		held = now
		d.tell(ctx, evLost, lost)
		d.tell(ctx, evGained, gained)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case err := <-d.conn.Err():
			d.log.Error("bus error", "error", err)
		}
	}
}

// tell every worker that partitions were gained or lost, if any were.
func (d *decider) tell(ctx context.Context, kind eventKind, parts map[int]bool) {
	if len(parts) == 0 {
		return
	}
	for _, w := range d.workers {
		d.send(ctx, w, event{kind: kind, parts: parts})
	}
}

// loadReadings hands every stored last reading to the workers, so a restarted replica
// decides on the last known values instead of waiting a polling interval.
func (d *decider) loadReadings(ctx context.Context) error {
	rs, err := d.conn.LastReadings(ctx, msg.Filter{})
	if err != nil && rs == nil {
		return fmt.Errorf("load last readings: %w", err)
	}
	if err != nil {
		d.log.Warn("some stored readings are invalid", "error", err)
	}
	for _, r := range rs {
		d.route(ctx, event{kind: evReading, key: msg.ObjectKey(r.Object), reading: r, stored: true})
	}
	return nil
}

func (d *decider) onReading(m *nats.Msg) {
	r, err := msg.DecodeAs[msg.Reading](m.Data)
	if err != nil {
		d.log.Warn("skip invalid reading", "subject", m.Subject, "error", err)
		return
	}
	d.metrics.readings.Inc()
	d.route(context.Background(), event{kind: evReading, key: msg.ObjectKey(r.Object), reading: r})
}

// route sends e to the worker that owns its object.
func (d *decider) route(ctx context.Context, e event) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(e.key))
	d.send(ctx, d.workers[h.Sum32()%uint32(len(d.workers))], e)
}

func (d *decider) send(ctx context.Context, w *worker, e event) {
	select {
	case w.events <- e:
	case <-ctx.Done():
	}
}

// publish sends a decision and waits until the audit stream has stored it; before is called
// once the message is encoded, just before it is sent.
func (d *decider) publish(ctx context.Context, dec msg.Decision, before func()) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	data, err := msg.Marshal(dec)
	if err != nil {
		return err
	}
	before()
	if err := d.conn.PublishData(ctx, d.conn.Prefix().Subject(dec), data); err != nil {
		if errors.Is(err, nats.ErrPermissionViolation) {
			return fmt.Errorf("%w (is the bus user of the decider role?)", err)
		}
		return err
	}
	return nil
}

// objectLog is the logger for one object, with the fixed keys.
func (d *decider) objectLog(ref msg.ObjectRef) *slog.Logger {
	kind := "scaledObject"
	if ref.Kind == msg.ScaledJob {
		kind = "scaledJob"
	}
	return d.log.With("namespace", ref.Namespace, kind, ref.Name)
}

// handler turns informer callbacks into worker events.
type handler struct{ d *decider }

func (h handler) Set(obj client.Object)  { h.send(evSet, obj) }
func (h handler) Gone(obj client.Object) { h.send(evGone, obj) }
func (h handler) Replicas(so *v1alpha1.ScaledObject) {
	h.send(evReplicas, so)
}

func (h handler) send(kind eventKind, obj client.Object) {
	ref := msg.ObjectRef{Namespace: obj.GetNamespace(), Name: obj.GetName(), Kind: msg.ScaledObject}
	if _, ok := obj.(*v1alpha1.ScaledJob); ok {
		ref.Kind = msg.ScaledJob
	}
	if kind == evSet && obj.GetDeletionTimestamp() != nil {
		kind = evGone
	}
	h.d.route(context.Background(), event{kind: kind, key: msg.ObjectKey(ref), obj: obj})
}
