// Package pollertest has what poller tests share: a fast in-process source that stands in
// for a scaler where the source type does not matter, and a recorder of the readings that
// cross the bus.
package pollertest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller"
)

// Source builds readers for the given trigger types whose value is Value(kind, metadata) at
// the time of each read. It counts builds, reads and closes. With Waking set, its readers are
// poller.Wakers too, and Fire wakes them.
type Source struct {
	Types  []string
	Value  func(ctx context.Context, kind string, m trigger.Metadata) (float64, error)
	Waking bool

	Builds, Reads, Closes atomic.Int64

	mu    sync.Mutex
	fires map[*wakingReader]func() // the wake-ups running
}

var _ poller.Builder = (*Source)(nil)

// Constant is a Source of types that always reads v.
func Constant(v float64, types ...string) *Source {
	return &Source{Types: types, Value: func(context.Context, string, trigger.Metadata) (float64, error) { return v, nil }}
}

// Kinds implements poller.Builder.
func (s *Source) Kinds() []string { return s.Types }

// Build implements poller.Builder.
func (s *Source) Build(kind string, m trigger.Metadata) (poller.Reader, error) {
	if !slices.Contains(s.Types, kind) {
		return nil, errors.New("no scaler for trigger type " + kind)
	}
	s.Builds.Add(1)
	r := &reader{s: s, kind: kind, m: m}
	if s.Waking {
		return &wakingReader{reader: r}, nil
	}
	return r, nil
}

// Fire wakes every reader whose wake-ups run, as a source announcing work would.
func (s *Source) Fire() {
	s.mu.Lock()
	fires := make([]func(), 0, len(s.fires))
	for _, f := range s.fires {
		fires = append(fires, f)
	}
	s.mu.Unlock()
	for _, f := range fires {
		f()
	}
}

// Wakes is how many readers' wake-ups run.
func (s *Source) Wakes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.fires)
}

type reader struct {
	s    *Source
	kind string
	m    trigger.Metadata
}

func (r *reader) Read(ctx context.Context) (float64, error) {
	r.s.Reads.Add(1)
	return r.s.Value(ctx, r.kind, r.m)
}

func (r *reader) Close() error {
	r.s.Closes.Add(1)
	return nil
}

type wakingReader struct{ *reader }

var _ poller.Waker = (*wakingReader)(nil)

// Wake implements poller.Waker.
func (w *wakingReader) Wake(ctx context.Context, fire func()) (func(), error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fires == nil {
		s.fires = map[*wakingReader]func(){}
	}
	if _, dup := s.fires[w]; dup {
		return nil, errors.New("pollertest: Wake called twice on one reader")
	}
	s.fires[w] = fire
	stop := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.fires, w)
	}
	context.AfterFunc(ctx, stop)
	return stop, nil
}

// Recorder keeps every reading published on the bus, by reading key, in arrival order.
type Recorder struct {
	mu    sync.Mutex
	byKey map[string][]msg.Reading
	bad   []error
	added chan struct{} // closed and replaced on every reading
}

// Record subscribes conn (a role that may read readings) until the test ends.
func Record(t testing.TB, conn *bus.Conn) *Recorder {
	t.Helper()
	r := &Recorder{byKey: map[string][]msg.Reading{}, added: make(chan struct{})}
	sub, err := conn.Subscribe(t.Context(), conn.Prefix().All(msg.TypeReading), func(m *nats.Msg) {
		rd, err := msg.DecodeAs[msg.Reading](m.Data)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.bad = append(r.bad, err)
			return
		}
		key := msg.ReadingKey(rd.Object, rd.Trigger.Index)
		r.byKey[key] = append(r.byKey[key], rd)
		close(r.added)
		r.added = make(chan struct{})
	})
	if err != nil {
		t.Fatalf("pollertest: record readings: %v", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sub.Unsubscribe()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, err := range r.bad {
			t.Errorf("pollertest: an invalid reading crossed the bus: %v", err)
		}
	})
	return r
}

// Readings returns a copy of the readings of key so far.
func (r *Recorder) Readings(key string) []msg.Reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byKey[key])
}

// All returns a copy of every reading so far, by key.
func (r *Recorder) All() map[string][]msg.Reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]msg.Reading, len(r.byKey))
	for k, v := range r.byKey {
		out[k] = slices.Clone(v)
	}
	return out
}

// Wait waits until ok holds for the readings so far, failing t after within.
func (r *Recorder) Wait(t testing.TB, what string, within time.Duration, ok func(map[string][]msg.Reading) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		added := r.added
		r.mu.Unlock()
		if ok(r.All()) {
			return
		}
		select {
		case <-added:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("pollertest: not within %v: %s", within, what)
		}
	}
}

// Last is the last reading of key, and whether there is one.
func (r *Recorder) Last(key string) (msg.Reading, bool) {
	rs := r.Readings(key)
	if len(rs) == 0 {
		return msg.Reading{}, false
	}
	return rs[len(rs)-1], true
}
