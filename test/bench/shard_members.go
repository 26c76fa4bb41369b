package bench

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
)

// pollerGroup is the shard group of pollers that poll every trigger type.
const pollerGroup = "all"

// members follows the pollers bucket as the admin role: who is live, and when each member's
// key went away (deleted by a poller that stopped, or expired after a kill).
type members struct {
	w jetstream.KeyWatcher

	mu      sync.Mutex
	live    map[string]bool
	left    map[string]time.Time
	changed chan struct{}
}

func watchMembers(ctx context.Context, admin *bus.Conn) (*members, error) {
	kv, err := admin.JetStream().KeyValue(ctx, bus.PollersBucket(admin.Prefix()))
	if err != nil {
		return nil, err
	}
	m := &members{live: map[string]bool{}, left: map[string]time.Time{}, changed: make(chan struct{})}
	if m.w, err = bus.WatchKeys(ctx, kv, pollerGroup+".*", m.apply); err != nil {
		return nil, err
	}
	go func() {
		for e := range m.w.Updates() {
			if e != nil {
				m.apply(e)
			}
		}
	}()
	return m, nil
}

func (m *members) apply(e jetstream.KeyValueEntry) {
	id := strings.TrimPrefix(e.Key(), pollerGroup+".")
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.Operation() == jetstream.KeyValuePut {
		if !m.live[id] {
			m.live[id] = true
			m.signal()
		}
		return
	}
	if m.live[id] {
		delete(m.live, id)
		m.left[id] = time.Now()
		m.signal()
	}
}

func (m *members) signal() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// waitFor returns once the live members are exactly ids, or ctx ends.
func (m *members) waitFor(ctx context.Context, ids []string) error {
	for {
		m.mu.Lock()
		ch, now := m.changed, m.current()
		m.mu.Unlock()
		if slices.Equal(now, slices.Sorted(slices.Values(ids))) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// current lists the live members, sorted; m.mu is held.
func (m *members) current() []string {
	var ids []string
	for id := range m.live {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// leftAt is when id's key last went away (zero if it has not).
func (m *members) leftAt(id string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.left[id]
}

func (m *members) stop() { _ = m.w.Stop() }
