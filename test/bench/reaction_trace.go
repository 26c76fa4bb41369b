package bench

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// replicaLog records every spec.replicas a Deployment goes through, stamped when the watch
// delivered it: the benchmark's clock for every transition.
type replicaLog struct {
	mu      sync.Mutex
	at      []time.Time
	counts  []int32
	changed chan struct{} // closed and replaced on every new count
}

// watchReplicas follows the Deployment until ctx ends, watching again whenever a watch ends
// (the API server closes them after a while).
func watchReplicas(ctx context.Context, kube kubernetes.Interface, ns, name string, log *slog.Logger) *replicaLog {
	l := &replicaLog{changed: make(chan struct{})}
	go func() {
		for ctx.Err() == nil {
			if err := l.watchOnce(ctx, kube, ns, name); err != nil && ctx.Err() == nil {
				log.Warn("watch deployment; watching again", "namespace", ns, "name", name, "error", err)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return l
}

func (l *replicaLog) watchOnce(ctx context.Context, kube kubernetes.Interface, ns, name string) error {
	w, err := kube.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if d, ok := ev.Object.(*appsv1.Deployment); ok && d.Spec.Replicas != nil {
			l.add(time.Now(), *d.Spec.Replicas)
		}
	}
	return nil
}

func (l *replicaLog) add(at time.Time, n int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) > 0 && l.counts[len(l.counts)-1] == n {
		return
	}
	l.at, l.counts = append(l.at, at), append(l.counts, n)
	close(l.changed)
	l.changed = make(chan struct{})
}

// waitFor returns when the count first satisfied ok at or after since (which may be in the
// past), or an error with the counts seen once timeout has passed.
func (l *replicaLog) waitFor(ctx context.Context, since time.Time, ok func(int32) bool, timeout time.Duration) (time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		changed := l.changed
		for i, n := range l.counts {
			// A count set before since and still in force at since counts as seen at since.
			inForce := i == len(l.counts)-1 || !l.at[i+1].Before(since)
			if ok(n) && inForce {
				at := l.at[i]
				l.mu.Unlock()
				if at.Before(since) {
					at = since
				}
				return at, nil
			}
		}
		seen := fmt.Sprint(l.counts)
		l.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("not reached within %s (counts seen: %s)", timeout, seen)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// tapped is a bus message as the benchmark's tap received it.
type tapped[M msg.Message] struct {
	recv time.Time
	m    M
}

// tapLog records the readings, decisions and actions of one namespace as they cross the bus,
// each with the time the tap received it. The tap role may read them all and write none.
type tapLog struct {
	mu        sync.Mutex
	readings  []tapped[msg.Reading]
	decisions []tapped[msg.Decision]
	actions   []tapped[msg.Action]
	subs      []*nats.Subscription
}

func tapNamespace(ctx context.Context, conn *bus.Conn, ns string) (*tapLog, error) {
	t := &tapLog{}
	f := msg.Filter{Namespace: ns, Kind: msg.ScaledObject}
	for _, typ := range msg.Types() {
		sub, err := conn.Subscribe(ctx, conn.Prefix().Filter(typ, f), t.receive)
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("tap %s: %w", ns, err)
		}
		t.subs = append(t.subs, sub)
	}
	return t, nil
}

func (t *tapLog) receive(m *nats.Msg) {
	recv := time.Now()
	decoded, err := msg.Decode(m.Data)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch v := decoded.(type) {
	case msg.Reading:
		t.readings = append(t.readings, tapped[msg.Reading]{recv, v})
	case msg.Decision:
		t.decisions = append(t.decisions, tapped[msg.Decision]{recv, v})
	case msg.Action:
		t.actions = append(t.actions, tapped[msg.Action]{recv, v})
	}
}

func (t *tapLog) stop() {
	for _, s := range t.subs {
		_ = s.Unsubscribe()
	}
}

// sawReading reports whether a reading has arrived since since.
func (t *tapLog) sawReading(since time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.readings {
		if !r.recv.Before(since) {
			return true
		}
	}
	return false
}

// path is one scale-up from zero as the bus saw it: the first scale action from 0 after
// since, the decision it applied and the reading that decision used.
type path struct {
	reading  tapped[msg.Reading]
	decision tapped[msg.Decision]
	action   tapped[msg.Action]
}

// activation finds the path of the first scale from zero at or after since.
func (t *tapLog) activation(since time.Time) (path, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var p path
	found := false
	for _, a := range t.actions {
		if a.m.Operation == msg.OpScale && a.m.Result == msg.ResultOK && a.m.Decision != nil &&
			a.m.From != nil && *a.m.From == 0 && a.m.To != nil && *a.m.To >= 1 && !a.m.At.Before(since) {
			p.action, found = a, true
			break
		}
	}
	if !found {
		return p, fmt.Errorf("no scale action from 0 on the bus")
	}
	ref := p.action.m.Decision
	found = false
	for _, d := range t.decisions {
		if d.m.DecidedAt.Equal(ref.DecidedAt) && d.m.Decider == ref.Decider {
			p.decision, found = d, true
			break
		}
	}
	if !found || len(p.decision.m.Inputs) == 0 {
		return p, fmt.Errorf("the decision of the scale action (%s) not on the bus, or without inputs", ref.DecidedAt.Format(time.StampMilli))
	}
	in := p.decision.m.Inputs[0]
	for _, r := range t.readings {
		if r.m.ObservedAt.Equal(in.ObservedAt) && r.m.Trigger.Index == in.Trigger.Index {
			p.reading = r
			return p, nil
		}
	}
	return p, fmt.Errorf("the reading of the decision (%s) not on the bus", in.ObservedAt.Format(time.StampMilli))
}
