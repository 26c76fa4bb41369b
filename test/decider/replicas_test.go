package decider

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider"
)

// deciders returns, for every object decided within d, the replicas that decided it.
func (s *scene) deciders(d time.Duration) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	deadline := time.After(d)
	for {
		select {
		case dec := <-s.decisions:
			if dec.Object.Namespace != s.ns {
				continue
			}
			if out[dec.Object.Name] == nil {
				out[dec.Object.Name] = map[string]bool{}
			}
			out[dec.Object.Name][dec.Decider] = true
		case <-deadline:
			return out
		}
	}
}

// split reports whether every one of n objects was decided, each by exactly one replica, and
// which replicas decided.
func split(by map[string]map[string]bool, n int) (ok bool, replicas []string) {
	seen := map[string]bool{}
	ok = len(by) == n
	for _, ids := range by {
		ok = ok && len(ids) == 1
		for id := range ids {
			seen[id] = true
		}
	}
	for id := range seen {
		replicas = append(replicas, id)
	}
	sort.Strings(replicas)
	return ok, replicas
}

func (e *env) replicas(t *testing.T) {
	s := e.scene(t, "replicas")
	const n = 12
	objects := make([]*v1alpha1.ScaledObject, n)
	for i := range n {
		name := fmt.Sprintf("consumer-%d", i)
		s.deployment(name, 1)
		objects[i] = s.scaledObject(name, "  pollingInterval: 1")
	}
	cfg := decider.Config{Partitions: 16, LeaseTTL: time.Second}
	s.run("decider-a", nil, cfg)
	b := s.run("decider-b", nil, cfg)
	s.feed(t, objects)

	var by map[string]map[string]bool
	for try := 0; ; try++ {
		by = s.deciders(time.Second)
		if ok, ids := split(by, n); ok && len(ids) == 2 {
			break
		}
		if try == 10 {
			t.Fatalf("after 10 s the objects are not split between the two replicas: %v", by)
		}
	}
	by = s.deciders(2 * time.Second)
	ok, ids := split(by, n)
	if !ok || len(ids) != 2 {
		t.Fatalf("over 2 s of steady readings, want each object decided by exactly one of both replicas; got %v", by)
	}
	var moved []string // b's objects
	for name, ids := range by {
		if ids["decider-b"] {
			moved = append(moved, name)
		}
	}

	crashed := time.Now()
	b.crash()
	pending := map[string]bool{}
	for _, name := range moved {
		pending[name] = true
	}
	timeout := time.After(10 * time.Second)
	for len(pending) > 0 {
		select {
		case d := <-s.decisions:
			if d.Object.Namespace != s.ns {
				continue
			}
			if d.Decider != "decider-b" {
				delete(pending, d.Object.Name)
			} else if d.DecidedAt.After(crashed) {
				t.Fatalf("decision from the crashed replica: %+v", d)
			} // else published before the crash, delivered after it
		case <-timeout:
			t.Fatalf("10 s after decider-b crashed, nobody decides %v", pending)
		}
	}
	took := time.Since(crashed)
	t.Logf("%d objects moved from the crashed replica in %s (lease TTL %s)", len(moved), took, cfg.LeaseTTL)
	if took > 3*cfg.LeaseTTL {
		t.Errorf("objects moved %s after the crash, want within 3×TTL (%s)", took, 3*cfg.LeaseTTL)
	}
}

// feed publishes a new reading of every object every 100 ms until the test ends, so each
// owner decides each object several times a second.
func (s *scene) feed(t *testing.T, objects []*v1alpha1.ScaledObject) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; k++ {
			for _, o := range objects {
				r := msg.Reading{
					Object:  msg.ObjectRef{Namespace: o.Namespace, Kind: msg.ScaledObject, Name: o.Name, UID: string(o.UID), Generation: o.Generation},
					Trigger: msg.TriggerRef{Type: "rabbitmq", MetricName: metric}, Value: float64(k%40 + 1), Active: true,
					Target: msg.Target{Type: msg.AverageValue, Value: 5}, ObservedAt: time.Now(), Poller: "poller-0",
				}
				if err := s.poller.Publish(ctx, r); err != nil && ctx.Err() == nil {
					t.Errorf("publish reading: %v", err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}
