package shard

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/utils/clock"

	"ebb.dev/bus"
)

// Config says which group a replica joins and as whom.
type Config struct {
	// Group names the replicas that split the same triggers, e.g. "all" or "kafka_rabbitmq".
	Group string
	// ID is this replica, unique within the group (the pod name).
	ID string
	// Clock defaults to the real clock.
	Clock clock.WithTicker
	// Log defaults to discarding.
	Log *slog.Logger
}

// Validate reports a group or ID that cannot be a key token of the bucket.
func (c Config) Validate() error {
	var errs []error
	if !token(c.Group) {
		errs = append(errs, fmt.Errorf("group %q: want letters, digits, '-', '_' or '='", c.Group))
	}
	if !token(c.ID) {
		errs = append(errs, fmt.Errorf("id %q: want letters, digits, '-', '_' or '='", c.ID))
	}
	return errors.Join(errs...)
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

// Membership is this replica's view of its group's live members. It keeps its own key alive
// until the context given to Join ends, then deletes the key so the others take over at once.
type Membership struct {
	kv    jetstream.KeyValue
	cfg   Config
	ttl   time.Duration
	nonce string // tells this process's key from another process using the same ID

	mu      sync.Mutex
	seen    map[string]time.Time // member ID -> when its last put was seen here
	view    []string             // live members, sorted
	changed chan struct{}        // closed and replaced whenever view changes
	dupe    bool                 // another process put our key: said once

	done chan struct{}
}

// Join puts this replica's key into the pollers bucket kv and returns once the group's current
// members are known. The key expires after the bucket's TTL unless renewed, which Join does
// every TTL/3 until ctx ends.
func Join(ctx context.Context, kv jetstream.KeyValue, cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("join pollers: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("join pollers: %w", err)
	}
	if st.TTL() <= 0 {
		return nil, fmt.Errorf("join pollers: bucket %s has no TTL, so a dead replica would never leave", st.Bucket())
	}
	m := &Membership{
		kv: kv, cfg: cfg, ttl: st.TTL(), nonce: rand.Text(),
		seen: map[string]time.Time{}, changed: make(chan struct{}), done: make(chan struct{}),
	}
	if err := m.heartbeat(ctx); err != nil {
		return nil, fmt.Errorf("join pollers: %w", err)
	}
	w, err := m.watch(ctx)
	if err != nil {
		return nil, fmt.Errorf("join pollers: %w", err)
	}
	go m.run(ctx, w)
	return m, nil
}

// Members lists the live members, sorted; this replica is among them only while its key is.
func (m *Membership) Members() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view
}

// Owns reports whether this replica owns key among the current members.
func (m *Membership) Owns(key string) bool {
	return Owner(m.Members(), key) == m.cfg.ID
}

// Changed is closed at the next change of Members. Take it before reading Members so no
// change is missed.
func (m *Membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Done is closed once the replica has left: its context ended and its key is deleted (or the
// delete failed and the key will expire).
func (m *Membership) Done() <-chan struct{} { return m.done }

// TTL is how long a member's key lives without renewal: the longest a dead replica holds its
// triggers.
func (m *Membership) TTL() time.Duration { return m.ttl }

func (m *Membership) key() string { return m.cfg.Group + "." + m.cfg.ID }

func (m *Membership) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.ttl/3)
	defer cancel()
	if _, err := m.kv.PutString(ctx, m.key(), m.nonce); err != nil {
		return fmt.Errorf("put %s: %w", m.key(), err)
	}
	return nil
}

// watch starts a watcher on the group's keys and applies the stored keys before returning.
func (m *Membership) watch(ctx context.Context) (jetstream.KeyWatcher, error) {
	return bus.WatchKeys(ctx, m.kv, m.cfg.Group+".*", m.apply)
}

func (m *Membership) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(m.done)
	defer m.leave(ctx)
	beat := m.cfg.Clock.NewTicker(m.ttl / 3)
	defer beat.Stop()
	for {
		var updates <-chan jetstream.KeyValueEntry
		if w != nil {
			updates = w.Updates()
		}
		select {
		case <-ctx.Done():
			if w != nil {
				_ = w.Stop()
			}
			return
		case <-beat.C():
			if err := m.heartbeat(ctx); err != nil && ctx.Err() == nil {
				m.cfg.Log.Warn("poller heartbeat failed; the key expires unless a later one succeeds", "error", err)
			}
			m.sweep()
			if w == nil { // the last watcher stopped: start another
				if w, _ = m.watch(ctx); w == nil && ctx.Err() == nil {
					m.cfg.Log.Warn("watch pollers failed; retrying at the next heartbeat")
				}
			}
		case e, ok := <-updates:
			switch {
			case !ok:
				w = nil
			case e != nil:
				m.apply(e)
			}
		}
	}
}

// leave deletes this replica's key so its triggers move at once, not after the TTL.
func (m *Membership) leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.ttl/3)
	defer cancel()
	if err := m.kv.Delete(ctx, m.key()); err != nil {
		m.cfg.Log.Warn("leave pollers: key not deleted; it expires after the TTL", "key", m.key(), "error", err)
	}
}

// apply records one change of a member's key.
func (m *Membership) apply(e jetstream.KeyValueEntry) {
	id, ok := strings.CutPrefix(e.Key(), m.cfg.Group+".")
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.Operation() == jetstream.KeyValuePut {
		if id == m.cfg.ID && string(e.Value()) != m.nonce && !m.dupe {
			m.dupe = true
			m.cfg.Log.Error("another poller process uses this replica's id: both poll the same triggers", "id", id)
		}
		m.seen[id] = m.cfg.Clock.Now()
	} else {
		delete(m.seen, id)
	}
	m.publish()
}

// sweep drops members whose key was not renewed for 1.5 TTL: a backstop for an expiry marker
// that this replica missed (say, while its watcher restarted).
func (m *Membership) sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	for id, t := range m.seen {
		if now.Sub(t) > m.ttl+m.ttl/2 {
			delete(m.seen, id)
		}
	}
	m.publish()
}

// publish recomputes the view from seen and signals a change; m.mu is held.
func (m *Membership) publish() {
	view := make([]string, 0, len(m.seen))
	for id := range m.seen {
		view = append(view, id)
	}
	slices.Sort(view)
	if slices.Equal(view, m.view) {
		return
	}
	m.view = view
	close(m.changed)
	m.changed = make(chan struct{})
}
