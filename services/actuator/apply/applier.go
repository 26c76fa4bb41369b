package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/target"
)

// Config tunes an Applier; zero values mean the defaults.
type Config struct {
	// Workers apply decisions for different objects at once; 16 by default.
	Workers int
	// LastActiveResolution bounds how often lastActiveTime is rewritten while an object stays
	// active; one minute by default.
	LastActiveResolution time.Duration
}

func (c Config) withDefaults() Config {
	if c.Workers == 0 {
		c.Workers = 16
	}
	if c.LastActiveResolution == 0 {
		c.LastActiveResolution = time.Minute
	}
	return c
}

// Deps are what an Applier reads and writes through.
type Deps struct {
	Client  client.Client // the manager's: cached reads, direct writes
	Reader  client.Reader // uncached, for reads that must not be stale
	Targets *target.Resolver
	Actions action.Recorder
	Events  events.EventRecorder
	Source  Source
	Logger  *slog.Logger
}

// Option adjusts an Applier for tests.
type Option func(*Applier)

// WithClock replaces the clock that dates and expires decisions.
func WithClock(c clock.PassiveClock) Option { return func(a *Applier) { a.clock = c } }

// Applier applies decisions; run it with Start, on the leader only.
type Applier struct {
	Deps
	cfg   Config
	clock clock.PassiveClock
	queue workqueue.TypedRateLimitingInterface[key]

	mu      sync.Mutex
	objects map[key]*object
}

// key names an object across kinds.
type key struct {
	kind msg.Kind
	types.NamespacedName
}

// object is what the applier remembers of one object between decisions.
type object struct {
	latest  *msg.Decision // newest received and not yet applied
	applied time.Time     // when the last applied (or skipped) decision was made
	memo    memo
}

// memo is what applying one decision leaves for the next.
type memo struct {
	replicas   *int32    // the target's replicas as last read or written
	lastActive time.Time // when the last active decision was made
}

// applyTimeout bounds applying one decision, so a request hanging on a dead connection holds
// a worker for a while, not for good.
const applyTimeout = 30 * time.Second

// errGone says the object no longer exists: forget it.
var errGone = errors.New("object is gone")

// New builds an Applier.
func New(cfg Config, deps Deps, opts ...Option) *Applier {
	a := &Applier{
		Deps:    deps,
		cfg:     cfg.withDefaults(),
		clock:   clock.RealClock{},
		objects: map[key]*object{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[key](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[key]{Name: "decisions"}),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// NeedLeaderElection is true: only the leader writes.
func (a *Applier) NeedLeaderElection() bool { return true }

// Start consumes decisions and applies them until ctx ends.
func (a *Applier) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range a.cfg.Workers {
		wg.Go(func() {
			for a.next(ctx) {
			}
		})
	}
	err := a.Source.Decisions(ctx, a.receive)
	a.queue.ShutDown()
	wg.Wait()
	return err
}

// receive keeps d if it is the newest for its object and queues the object.
func (a *Applier) receive(d msg.Decision) {
	k := key{kind: d.Object.Kind, NamespacedName: types.NamespacedName{Namespace: d.Object.Namespace, Name: d.Object.Name}}
	a.mu.Lock()
	o := a.objects[k]
	if o == nil {
		o = &object{}
		a.objects[k] = o
	}
	newer := d.DecidedAt.After(o.applied) && (o.latest == nil || d.DecidedAt.After(o.latest.DecidedAt))
	if newer {
		o.latest = &d
	}
	a.mu.Unlock()
	if newer {
		a.queue.Add(k)
	}
}

// next applies the newest decision of one queued object; false once the queue shuts down.
func (a *Applier) next(ctx context.Context) bool {
	k, shutdown := a.queue.Get()
	if shutdown {
		return false
	}
	defer a.queue.Done(k)
	a.mu.Lock()
	o := a.objects[k]
	var d *msg.Decision
	var m memo
	if o != nil {
		d, m = o.latest, o.memo
	}
	a.mu.Unlock()
	if d == nil {
		a.queue.Forget(k)
		return true
	}
	log := a.Logger.With("namespace", k.Namespace, "kind", k.kind, "name", k.Name, "reason", d.Reason, "replicas", d.DesiredReplicas)
	actx, cancel := context.WithTimeout(ctx, applyTimeout)
	m, err := a.apply(actx, k, *d, m)
	cancel()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case errors.Is(err, errGone):
		if o.latest == d { // a newer decision may be for a new object of the same name
			delete(a.objects, k)
		}
		a.queue.Forget(k)
	case err != nil:
		o.memo = m
		level := slog.LevelWarn
		if errors.Is(err, errWait) {
			level = slog.LevelDebug // the cache or the reconciler is catching up: expected
		}
		log.Log(ctx, level, "decision not applied yet, will retry", "error", err)
		a.queue.AddRateLimited(k)
	default:
		o.memo = m
		o.applied = d.DecidedAt
		if o.latest == d {
			o.latest = nil
		}
		a.queue.Forget(k)
	}
	return true
}

func (a *Applier) apply(ctx context.Context, k key, d msg.Decision, m memo) (memo, error) {
	switch k.kind {
	case msg.ScaledObject:
		return a.scaledObject(ctx, k.NamespacedName, d, m)
	case msg.ScaledJob:
		return a.scaledJob(ctx, k.NamespacedName, d, m)
	}
	return m, fmt.Errorf("decision for unknown kind %q: %w", k.kind, errGone)
}

// get reads obj from the cache; a missing object is errGone.
func (a *Applier) get(ctx context.Context, nn types.NamespacedName, obj client.Object) error {
	err := a.Client.Get(ctx, nn, obj)
	if apierrors.IsNotFound(err) {
		return errGone
	}
	return err
}

// updateStatus lets change set obj's status and writes it when change reports a change.
// After a conflict (the reconciler wrote meanwhile) it re-reads obj from the API server and
// lets change run again on fresh data. It reports whether it attempted a write.
func (a *Applier) updateStatus(ctx context.Context, obj client.Object, change func() bool) (bool, error) {
	attempted, first := false, true
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if !first {
			if err := a.Reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
		}
		first = false
		if !change() {
			return nil
		}
		attempted = true
		return a.Client.Status().Update(ctx, obj)
	})
	return attempted || err != nil, err
}

func (a *Applier) record(ref msg.ObjectRef, d msg.Decision, op msg.Operation, from, to *int32, err error) {
	a.Actions.Record(msg.Action{Object: ref, Decision: d.DecisionRef(), Operation: op, From: from, To: to}, err)
}

// errWait says the decision must wait for the cache to catch up.
var errWait = errors.New("waiting for the cache")
