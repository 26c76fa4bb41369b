package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
)

var triggerAuthentications = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "triggerauthentications"}

// The workload of issue 11: 100 messages at 5 per replica ask for 20 replicas, of at most 30;
// cooldown 10 s.
const (
	burstSize   = 100
	burstTarget = 20
	maxReplicas = 30
	cooldown    = 10 * time.Second
	// workload is the Deployment and ScaledObject of every lane, each in its own namespace.
	workload = "consumer"
)

// lane is one configuration measured trial after trial: a source, a pollingInterval, the fast
// path on or off. Each lane has its own namespace, queue, Deployment and ScaledObject.
type lane struct {
	source   string // "rabbitmq" or "nats-jetstream"
	interval time.Duration
	fastPath bool
	push     bool // the source wakes the poller (natsServerURL set)
	// want trials; at least min are run, the rest only while the scenario's budget lasts.
	want, min int

	ns       string
	q        queue
	replicas *replicaLog
	tap      *tapLog
	trials   []trial
	pollDur  []time.Duration
	err      error // why the lane stopped early, if it did
	log      *slog.Logger
}

// trial is one burst and drain, timed by the Deployment watch.
type trial struct {
	publishAt, burstDone time.Time // first message sent, last one stored
	up1, up20            time.Time // replicas ≥ 1, ≥ 20
	drainAt, down0       time.Time // queue purged, replicas 0
	path                 path      // the 0→1 path on the bus
	pathErr              error
	err                  error
}

func (l *lane) name() string {
	s := fmt.Sprintf("%s, %s", l.source, intervalString(l.interval))
	if l.push {
		s += ", push"
	}
	if !l.fastPath {
		s += ", fast path off"
	}
	return s
}

// setup creates the lane's namespace, the Secret and TriggerAuthentication holding the
// source's secret parameters, the Deployment at 0 and its ScaledObject, and starts watching
// the Deployment and tapping the namespace on the bus.
func (l *lane) setup(ctx context.Context, p *platform, tapConn *bus.Conn) error {
	if err := p.namespace(ctx, l.ns); err != nil {
		return err
	}
	kind, md, auth := l.q.trigger()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: l.ns}, StringData: auth}
	if _, err := p.kube.CoreV1().Secrets(l.ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	var refs []any
	for key := range auth {
		refs = append(refs, map[string]any{"parameter": key, "name": "source", "key": key})
	}
	ta := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
		"metadata": map[string]any{"name": "source", "namespace": l.ns},
		"spec":     map[string]any{"secretTargetRef": refs},
	}}
	if _, err := p.dynamic.Resource(triggerAuthentications).Namespace(l.ns).Create(ctx, ta, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("trigger authentication: %w", err)
	}
	if _, err := p.kube.AppsV1().Deployments(l.ns).Create(ctx, deploymentAtZero(l.ns, workload), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("deployment: %w", err)
	}
	l.replicas = watchReplicas(ctx, p.kube, l.ns, workload, l.log)
	var err error
	if l.tap, err = tapNamespace(ctx, tapConn, l.ns); err != nil {
		return err
	}
	if _, err := p.dynamic.Resource(scaledObjects).Namespace(l.ns).Create(ctx, l.scaledObject(kind, md), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("scaled object: %w", err)
	}
	return nil
}

func (l *lane) scaledObject(kind string, md map[string]string) *unstructured.Unstructured {
	metadata := map[string]any{}
	for k, v := range md {
		metadata[k] = v
	}
	meta := map[string]any{"name": workload, "namespace": l.ns}
	if !l.fastPath {
		meta["annotations"] = map[string]any{v1alpha1.FastScaleUpAnnotation: "false"}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": meta,
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": workload},
			"pollingInterval": int64(l.interval / time.Second),
			"cooldownPeriod":  int64(cooldown / time.Second),
			"maxReplicaCount": int64(maxReplicas),
			"triggers": []any{map[string]any{
				"type": kind, "metadata": metadata, "authenticationRef": map[string]any{"name": "source"},
			}},
		},
	}}
}

// ready waits until the lane's Deployment is watched at 0 and its trigger has been polled,
// so the first trial starts on a running ScaledObject.
func (l *lane) ready(ctx context.Context, since time.Time) error {
	if _, err := l.replicas.waitFor(ctx, since, equals(0), 30*time.Second); err != nil {
		return fmt.Errorf("deployment at 0: %w", err)
	}
	deadline := time.Now().Add(l.interval + time.Minute)
	for !l.tap.sawReading(since) {
		if time.Now().After(deadline) {
			return fmt.Errorf("no reading of %s/%s on the bus within %s", l.ns, workload, l.interval+time.Minute)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// run plays the lane's trials until it has want, or has min and the deadline has passed.
// upLock lets one lane at a time publish and scale up, so that the lanes, which run side by
// side, do not share the machine during the fast part that the targets are about.
func (l *lane) run(ctx context.Context, upLock *sync.Mutex, deadline time.Time) {
	for i := range l.want {
		if i >= l.min && time.Now().After(deadline) {
			return
		}
		tr := l.trial(ctx, upLock)
		l.trials = append(l.trials, tr)
		l.log.Info("trial", "n", i+1, "0→1", since(tr.publishAt, tr.up1), "0→20", since(tr.publishAt, tr.up20),
			"20→0", since(tr.drainAt, tr.down0), "error", tr.err)
		if tr.err != nil {
			if err := l.recover(ctx); err != nil {
				l.err = fmt.Errorf("trial %d: %w; back to 0 failed: %w", i+1, tr.err, err)
				return
			}
		}
	}
}

// trial waits a random part of the polling interval (so the burst falls anywhere between two
// polls, as real work does), publishes the burst, waits for 1 and 20 replicas, holds for
// another random part of the interval, drains the queue and waits for 0.
func (l *lane) trial(ctx context.Context, upLock *sync.Mutex) (tr trial) {
	if tr.err = sleep(ctx, time.Second+rand.N(l.interval)); tr.err != nil {
		return tr
	}
	upLock.Lock()
	locked := true
	unlock := func() {
		if locked {
			upLock.Unlock()
			locked = false
		}
	}
	defer unlock()
	tr.publishAt = time.Now()
	if tr.err = l.q.publish(ctx, burstSize); tr.err != nil {
		return tr
	}
	tr.burstDone = time.Now()
	upWithin := l.interval + 30*time.Second
	if tr.up1, tr.err = l.replicas.waitFor(ctx, tr.publishAt, atLeast(1), upWithin); tr.err != nil {
		tr.err = fmt.Errorf("0→1: %w", tr.err)
		return tr
	}
	if !l.fastPath {
		unlock() // the HPA's growth takes a minute; the other lanes need not wait for it
		upWithin = 3 * time.Minute
	}
	if tr.up20, tr.err = l.replicas.waitFor(ctx, tr.publishAt, atLeast(burstTarget), upWithin); tr.err != nil {
		tr.err = fmt.Errorf("0→%d: %w", burstTarget, tr.err)
		return tr
	}
	unlock()
	if tr.err = sleep(ctx, rand.N(l.interval)); tr.err != nil {
		return tr
	}
	tr.drainAt = time.Now()
	if tr.err = l.q.drain(ctx); tr.err != nil {
		return tr
	}
	if tr.down0, tr.err = l.replicas.waitFor(ctx, tr.drainAt, equals(0), cooldown+l.interval+30*time.Second); tr.err != nil {
		tr.err = fmt.Errorf("%d→0: %w", burstTarget, tr.err)
	}
	// Only now: the actuator publishes an action after its write, so the watch may deliver
	// the new count before the tap has the action.
	tr.path, tr.pathErr = l.tap.activation(tr.publishAt)
	return tr
}

// recover drains the queue and waits for 0 replicas after a failed trial.
func (l *lane) recover(ctx context.Context) error {
	if err := l.q.drain(ctx); err != nil {
		return err
	}
	_, err := l.replicas.waitFor(ctx, time.Now(), equals(0), cooldown+l.interval+time.Minute)
	return err
}

// intervalString writes a pollingInterval as the issues do: "1 s", "30 s".
func intervalString(d time.Duration) string { return fmt.Sprintf("%g s", d.Seconds()) }

func atLeast(n int32) func(int32) bool { return func(got int32) bool { return got >= n } }
func equals(n int32) func(int32) bool  { return func(got int32) bool { return got == n } }

// since is the time from a to b, or 0 when either is unknown.
func since(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errNoTrials = errors.New("no trial completed")
