package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// recorder follows the fleet's readings and decisions on the bus, as the tap role, through
// one channel: the two subjects arrive in the order the bus sent them, each stamped when
// taken off the channel by one goroutine, so a decision is never stamped before its reading.
type recorder struct {
	subs []*nats.Subscription
	ch   chan *nats.Msg
	done chan struct{}

	mu      sync.Mutex
	last    map[string]lastReading // by reading key
	decided map[string]bool        // by object name
	pending map[string]lastReading // readings whose decision has not been seen, by key
	win     *window
	take    *takeover
}

type lastReading struct {
	poller   string
	observed time.Time
	arrived  time.Time
}

// window is what the bus carried over a measuring window.
type window struct {
	start, end time.Time
	readings   int
	decisions  int
	// unprompted counts decisions that used no reading not already decided on: the decider's
	// publish after 1¼ polling intervals without one, or at a cooldown's end.
	unprompted int
	// latencies are from a reading's arrival to the arrival of the first decision that used
	// it; toDecide is the part until the decision's decidedAt, toArrive the rest (saving the
	// decider's state, publishing, the bus).
	latencies, toDecide, toArrive []time.Duration
	pollers                       map[string]*pollerLoad
}

// pollerLoad is one poller's share of a window.
type pollerLoad struct {
	readings int
	triggers map[string]bool
}

func record(ctx context.Context, conn *bus.Conn) (*recorder, error) {
	r := newRecorder()
	f := msg.Filter{Namespace: fleetNamespace, Kind: msg.ScaledObject}
	for _, t := range []msg.Type{msg.TypeReading, msg.TypeDecision} {
		sub, err := conn.NATS().ChanSubscribe(conn.Prefix().Filter(t, f), r.ch)
		if err != nil {
			r.stop()
			return nil, fmt.Errorf("tap %s: %w", t, err)
		}
		r.subs = append(r.subs, sub)
	}
	if err := conn.Flush(ctx); err != nil {
		r.stop()
		return nil, fmt.Errorf("tap: %w", err)
	}
	go r.run()
	return r, nil
}

func newRecorder() *recorder {
	return &recorder{
		ch: make(chan *nats.Msg, 1<<16), done: make(chan struct{}),
		last: map[string]lastReading{}, decided: map[string]bool{}, pending: map[string]lastReading{},
	}
}

func (r *recorder) run() {
	for {
		select {
		case <-r.done:
			return
		case m := <-r.ch:
			r.receive(time.Now(), m)
		}
	}
}

func (r *recorder) receive(at time.Time, m *nats.Msg) {
	decoded, err := msg.Decode(m.Data)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch v := decoded.(type) {
	case msg.Reading:
		r.reading(at, v)
	case msg.Decision:
		r.decision(at, v)
	}
}

func (r *recorder) reading(at time.Time, v msg.Reading) {
	key := msg.ReadingKey(v.Object, v.Trigger.Index)
	lr := lastReading{poller: v.Poller, observed: v.ObservedAt, arrived: at}
	r.last[key], r.pending[key] = lr, lr
	if w := r.win; w != nil {
		w.readings++
		p := w.pollers[v.Poller]
		if p == nil {
			p = &pollerLoad{triggers: map[string]bool{}}
			w.pollers[v.Poller] = p
		}
		p.readings++
		p.triggers[key] = true
	}
	if t := r.take; t != nil {
		t.reading(key, lr)
	}
}

func (r *recorder) decision(at time.Time, v msg.Decision) {
	r.decided[v.Object.Name] = true
	var first *lastReading // the earliest reading this decision is the first to use
	for _, in := range v.Inputs {
		key := msg.ReadingKey(v.Object, in.Trigger.Index)
		p, ok := r.pending[key]
		if !ok || !p.observed.Equal(in.ObservedAt) {
			continue // a reading already decided on
		}
		delete(r.pending, key)
		if first == nil || p.arrived.Before(first.arrived) {
			first = &p
		}
	}
	w := r.win
	switch {
	case w == nil:
	case first == nil:
		w.decisions++
		w.unprompted++
	default:
		w.decisions++
		w.latencies = append(w.latencies, at.Sub(first.arrived))
		w.toDecide = append(w.toDecide, v.DecidedAt.Sub(first.arrived))
		w.toArrive = append(w.toArrive, at.Sub(v.DecidedAt))
	}
}

// seen counts the triggers read and the objects decided so far.
func (r *recorder) seen() (read, decided int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.last), len(r.decided)
}

// open starts a measuring window.
func (r *recorder) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.win = &window{start: time.Now(), pollers: map[string]*pollerLoad{}}
}

// close ends the window open started and returns it.
func (r *recorder) close() window {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.win
	r.win = nil
	w.end = time.Now()
	return *w
}

func (r *recorder) stop() {
	for _, s := range r.subs {
		_ = s.Unsubscribe()
	}
	select {
	case <-r.done:
	default:
		close(r.done)
	}
}

// takeover follows the triggers a killed poller was polling until others read them.
type takeover struct {
	killed string
	at     time.Time
	// orphans are the triggers still unread since the kill, with their last reading before it.
	orphans map[string]lastReading
	reads   []takeoverRead
	done    chan struct{}
}

// takeoverRead is the first reading of an orphaned trigger by another poller.
type takeoverRead struct {
	before lastReading // the killed poller's last
	after  lastReading
}

// watchTakeover starts following the triggers whose last reading came from killed, which
// was killed at at. It returns the takeover, done once every one has been read again, and
// how many it follows.
func (r *recorder) watchTakeover(killed string, at time.Time) (*takeover, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &takeover{killed: killed, at: at, orphans: map[string]lastReading{}, done: make(chan struct{})}
	for key, lr := range r.last {
		if lr.poller == killed {
			t.orphans[key] = lr
		}
	}
	if len(t.orphans) == 0 {
		close(t.done)
	}
	r.take = t
	return t, len(t.orphans)
}

// endTakeover ends following and returns the reads seen and how many orphans were never read.
func (r *recorder) endTakeover() (reads []takeoverRead, unread int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.take
	r.take = nil
	return t.reads, len(t.orphans)
}

func (t *takeover) reading(key string, lr lastReading) {
	before, ok := t.orphans[key]
	switch {
	case !ok:
		return
	case lr.poller == t.killed:
		t.orphans[key] = lr // published just before the kill, arriving after it
		return
	}
	delete(t.orphans, key)
	t.reads = append(t.reads, takeoverRead{before: before, after: lr})
	if len(t.orphans) == 0 {
		close(t.done)
	}
}
