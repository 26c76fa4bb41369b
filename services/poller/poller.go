package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/kube"
	"ebb.dev/services/poller/resolve"
	"ebb.dev/services/poller/shard"
)

// Reader reads one trigger's source; scaler.Scaler is one. A Reader that holds connections
// also implements io.Closer and is closed when its trigger stops or changes.
type Reader interface {
	Read(ctx context.Context) (float64, error)
}

// Waker is a Reader whose source can say that work arrived: it calls fire then, until stop is
// called or ctx ends, and the trigger is polled at once, outside its schedule (at most once
// per 100 ms). A wake-up is only a hint; the value always comes from Read. Subscriptions
// that fail are the Waker's to log and retry: the schedule goes on regardless.
type Waker interface {
	Wake(ctx context.Context, fire func()) (stop func(), err error)
}

// Builder makes the Reader of one parsed trigger. Build does no I/O.
type Builder interface {
	Build(kind string, m trigger.Metadata) (Reader, error)
	// Kinds lists the trigger types it builds.
	Kinds() []string
}

// Deps are the poller's connections and seams.
type Deps struct {
	Kube    *rest.Config
	Bus     *bus.Conn // a poller-role connection
	Scalers Builder
	// Vault reads hashiCorpVault sections; nil makes them fail with an error naming the field.
	Vault resolve.Vault
	Clock clock.WithTicker // default the real clock
	Log   *slog.Logger     // default discards
	// Metrics count polls, readings and wake-ups; default NewMetrics(nil), registered nowhere.
	Metrics *Metrics
}

// Replica polls its share of the triggers of the objects it is given: one poller process.
// Run feeds it from informers; tests and benchmarks may feed it directly.
type Replica struct {
	cfg      Config
	clock    clock.WithTicker
	log      *slog.Logger
	bus      *bus.Conn
	readings jetstream.KeyValue
	members  *shard.Membership
	resolver *resolve.Resolver
	triggers *trigger.Registry
	scalers  Builder
	kinds    []string // the scalers' trigger types: the values of the scaler label
	metrics  *Metrics
	sched    *scheduler
	done     chan struct{} // closed when follow has stopped everything
}

// sweepEvery is how often credentials no trigger read lately are dropped from memory.
const sweepEvery = 5 * time.Minute

// Run polls this replica's share of the cluster's triggers until ctx ends. It returns an
// error only when it cannot start; then it has left nothing running.
func Run(ctx context.Context, cfg Config, deps Deps) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := checkDeps(cfg, &deps); err != nil {
		return err
	}
	if deps.Kube == nil {
		return errors.New("poller: kube: a rest config is required")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k, err := kube.New(deps.Kube, kube.Config{WorkloadTTL: cfg.WorkloadTTL, Clock: deps.Clock, Log: deps.Log})
	if err != nil {
		return err
	}
	if err := k.Start(ctx); err != nil {
		return err
	}
	if err := k.Synced(ctx); err != nil {
		return err
	}
	res := &resolve.Resolver{Secrets: k, Auths: k, Workloads: k, Tokens: k, Vault: deps.Vault, Namespace: cfg.Namespace}
	p, err := start(ctx, cfg, deps, res)
	if err != nil {
		return err
	}
	if err := k.OnScaled(ctx, func(o client.Object) { p.Set(ctx, o) }, p.Delete); err != nil {
		cancel()
		p.Wait()
		return err
	}
	sweep := deps.Clock.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			p.Wait()
			return nil
		case <-sweep.C():
			k.Sweep(sweepEvery)
		}
	}
}

// Start joins the replica's group and follows its membership until ctx ends. Deps.Kube is
// not used: the caller feeds objects with Set and Delete, resolving through res, and calls
// Wait after ctx ends.
func Start(ctx context.Context, cfg Config, deps Deps, res *resolve.Resolver) (*Replica, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDeps(cfg, &deps); err != nil {
		return nil, err
	}
	return start(ctx, cfg, deps, res)
}

func start(ctx context.Context, cfg Config, deps Deps, res *resolve.Resolver) (*Replica, error) {
	p := &Replica{
		cfg: cfg, clock: deps.Clock, log: deps.Log, bus: deps.Bus, scalers: deps.Scalers,
		kinds: deps.Scalers.Kinds(), metrics: deps.Metrics,
		triggers: trigger.Builtin(), resolver: res, done: make(chan struct{}),
	}
	var err error
	if p.readings, err = deps.Bus.Readings(ctx); err != nil {
		return nil, err
	}
	pollers, err := deps.Bus.JetStream().KeyValue(ctx, bus.PollersBucket(deps.Bus.Prefix()))
	if err != nil {
		return nil, fmt.Errorf("open pollers bucket: %w", err)
	}
	p.members, err = shard.Join(ctx, pollers, shard.Config{Group: cfg.group(), ID: cfg.ID, Clock: deps.Clock, Log: deps.Log})
	if err != nil {
		return nil, err
	}
	p.sched = newScheduler(p)
	p.log.Info("poller started", "id", cfg.ID, "group", cfg.group(), "members", p.members.Members())
	go p.follow(ctx)
	return p, nil
}

// follow rebalances on every membership change until ctx ends, then stops every worker.
func (p *Replica) follow(ctx context.Context) {
	defer close(p.done)
	changed := p.members.Changed()
	for {
		select {
		case <-ctx.Done():
			p.sched.stop()
			<-p.members.Done()
			return
		case <-changed:
			changed = p.members.Changed()
			p.metrics.rebalances.Inc()
			started, stopped := p.sched.rebalance(ctx)
			p.log.Info("pollers changed", "members", p.members.Members(), "started", started, "stopped", stopped, "polling", p.sched.running())
		}
	}
}

// Wait returns once ctx has ended, every worker has stopped and the replica has left its group.
func (p *Replica) Wait() { <-p.done }

// Set records the current spec of a ScaledObject or ScaledJob: its triggers in this
// replica's share start, changed ones take effect at their next poll, removed ones stop.
func (p *Replica) Set(ctx context.Context, obj client.Object) { p.sched.set(ctx, obj) }

// Delete stops every trigger of a deleted object at once and deletes its last readings.
func (p *Replica) Delete(obj client.Object) { p.sched.gone(obj) }

// Polling is how many triggers this replica polls now.
func (p *Replica) Polling() int { return p.sched.running() }

func checkDeps(cfg Config, d *Deps) error {
	var errs []error
	if d.Bus == nil {
		errs = append(errs, errors.New("bus: a connection is required"))
	}
	if d.Scalers == nil {
		errs = append(errs, errors.New("scalers: a builder is required"))
	} else {
		for i, s := range cfg.Sources {
			if !slices.Contains(d.Scalers.Kinds(), s) {
				errs = append(errs, fmt.Errorf("sources[%d]: no scaler for trigger type %q (have %v)", i, s, d.Scalers.Kinds()))
			}
		}
	}
	if d.Clock == nil {
		d.Clock = clock.RealClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if len(errs) > 0 {
		return fmt.Errorf("poller: %w", errors.Join(errs...))
	}
	return nil
}

// owns reports whether this replica polls the trigger with key.
func (p *Replica) owns(key string) bool { return p.members.Owns(key) }

// publishTimeout bounds waiting for the bus to store a reading.
const publishTimeout = 10 * time.Second

func (p *Replica) publish(ctx context.Context, r msg.Reading) error {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	err := p.bus.Publish(ctx, r)
	p.metrics.publishedReading(err)
	return err
}

// lastRead is when anyone last read the trigger with key (zero when never or unknown).
func (p *Replica) lastRead(ctx context.Context, key string) time.Time {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	e, err := p.readings.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) && ctx.Err() == nil {
			p.log.Debug("read last reading", "key", key, "error", err)
		}
		return time.Time{}
	}
	r, err := msg.DecodeAs[msg.Reading](e.Value())
	if err != nil {
		return time.Time{}
	}
	return r.ObservedAt
}

// forget deletes the last reading of a trigger that no longer exists.
func (p *Replica) forget(j *job) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := p.bus.DeleteReading(ctx, j.ref, j.index); err != nil {
		p.log.Warn("delete reading of a removed trigger", "key", j.key, "error", err)
	}
}
