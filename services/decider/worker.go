package decider

import (
	"container/heap"
	"context"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/msg"
)

// eventKind says what a worker is told.
type eventKind int

const (
	evReading  eventKind = iota // a reading arrived
	evSet                       // an object was listed, added or changed
	evGone                      // an object was deleted
	evReplicas                  // a ScaledObject's target changed its replica count
	evGained                    // this replica took partitions over
	evLost                      // this replica lost or handed partitions over
)

type event struct {
	kind    eventKind
	key     string
	reading msg.Reading
	stored  bool // the reading comes from the readings bucket at start, not live from the bus
	obj     client.Object
	parts   map[int]bool // evGained, evLost
}

// worker owns a share of the objects (by key hash) and decides them one at a time, so one
// object's events are handled in order without locks.
type worker struct {
	d       *decider
	events  chan event
	objects map[string]*object
	due     dueHeap
	timer   clock.Timer
	armed   time.Time // when timer fires; zero when stopped
}

// eventBuffer is how many events a worker queues before senders wait.
const eventBuffer = 1024

func newWorker(d *decider) *worker {
	t := d.clock.NewTimer(time.Hour)
	t.Stop()
	return &worker{d: d, events: make(chan event, eventBuffer), objects: map[string]*object{}, timer: t}
}

func (w *worker) run(ctx context.Context) {
	defer w.timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-w.events:
			w.handle(ctx, e)
		case <-w.timer.C():
			w.armed = time.Time{}
		}
		w.fire(ctx)
	}
}

func (w *worker) handle(ctx context.Context, e event) {
	switch e.kind {
	case evReading:
		w.reading(ctx, e)
	case evSet:
		w.set(ctx, e.key, e.obj)
	case evGone:
		w.gone(ctx, e.key)
	case evReplicas:
		if o, ok := w.objects[e.key]; ok && o.spec != nil {
			w.decide(ctx, o)
		}
	case evGained:
		for key, o := range w.objects {
			if e.parts[w.d.set.Partition(key)] {
				o.loaded = false // the previous owner has written since this replica read it
				o.scaleUp = nil  // and scaled since this replica's last step
				w.decide(ctx, o)
			}
		}
	case evLost:
		for key, o := range w.objects {
			if e.parts[w.d.set.Partition(key)] {
				w.own(o, false)
			}
		}
	}
}

// reading counts a reading and decides its object on it.
func (w *worker) reading(ctx context.Context, e event) {
	o := w.object(e.key)
	if !e.stored {
		w.d.metrics.lag.Observe(w.d.clock.Since(e.reading.ObservedAt).Seconds())
	}
	if !o.observe(e.reading) {
		return
	}
	if at := e.reading.ObservedAt; !e.stored && (o.pending.IsZero() || at.Before(o.pending)) {
		o.pending = at // a stored reading predates this replica: its wait is no decision latency
	}
	if o.spec != nil && (o.spec.sj == nil || w.jobDue(o)) {
		w.decide(ctx, o)
	}
}

func (w *worker) object(key string) *object {
	o, ok := w.objects[key]
	if !ok {
		o = &object{key: key}
		w.objects[key] = o
	}
	return o
}

func (w *worker) set(ctx context.Context, key string, obj client.Object) {
	o := w.object(key)
	s := compile(obj, w.d.triggers)
	if o.spec != nil && o.spec.ref.UID != s.ref.UID {
		w.own(o, false)
		*o = object{key: key} // deleted and created again under the same name
	}
	if o.spec == nil {
		o.seen = w.d.clock.Now()
	}
	if s.err != nil && (o.spec == nil || o.spec.ref.Generation != s.ref.Generation || o.spec.err == nil) {
		w.d.objectLog(s.ref).Error("spec cannot be decided on; waiting for a change", "generation", s.ref.Generation, "error", s.err)
	}
	o.spec, o.scaleUp = &s, nil
	w.decide(ctx, o)
}

func (w *worker) gone(ctx context.Context, key string) {
	if o, ok := w.objects[key]; ok && o.spec != nil {
		w.d.set.Guard(ctx, key, func(ctx context.Context) { w.d.state.delete(ctx, key) })
		w.own(o, false)
	}
	delete(w.objects, key)
}

// jobDue reports whether a ScaledJob's interval has passed since its last decision: its Jobs
// are created once per interval, so it is decided no more often.
func (w *worker) jobDue(o *object) bool {
	return !w.d.clock.Now().Before(o.rec.Published.Add(o.spec.interval)) || !o.loaded
}

// decide decides o when this replica holds its partition, and schedules the next decision.
func (w *worker) decide(ctx context.Context, o *object) {
	if o.spec == nil || o.spec.err != nil || !w.d.ready.Load() {
		return
	}
	owned := w.d.set.Guard(ctx, o.key, func(ctx context.Context) {
		w.d.decide(ctx, o, func(t time.Time) { w.schedule(o, t) })
	})
	w.own(o, owned)
	if !owned {
		o.pending = time.Time{}    // the holder decides on it
		w.schedule(o, time.Time{}) // dormant until the partition is gained
	}
}

// own records whether this replica decides o, for the objects-owned gauge: as its partition
// is held at a decision, lost, or the object goes.
func (w *worker) own(o *object, owned bool) {
	if o.owned == owned {
		return
	}
	o.owned = owned
	if owned {
		w.d.metrics.objects.Inc()
	} else {
		w.d.metrics.objects.Dec()
	}
}

// schedule makes o due at t (zero: never) and arms the timer for it.
func (w *worker) schedule(o *object, t time.Time) {
	if o.next.Equal(t) {
		return
	}
	o.next = t
	if !t.IsZero() {
		heap.Push(&w.due, dueAt{at: t, key: o.key})
		w.arm(t)
	}
}

// arm makes the timer fire at t, unless it fires earlier already. A t already past is left
// to fire, which runs after every event.
func (w *worker) arm(t time.Time) {
	now := w.d.clock.Now()
	if !t.After(now) || (!w.armed.IsZero() && !t.Before(w.armed)) {
		return
	}
	w.timer.Stop()
	w.timer.Reset(t.Sub(now))
	w.armed = t
}

// fire decides every object that is due, then arms the timer for the next one.
func (w *worker) fire(ctx context.Context) {
	now := w.d.clock.Now()
	for w.due.Len() > 0 && !w.due[0].at.After(now) {
		d := heap.Pop(&w.due).(dueAt)
		if o, ok := w.objects[d.key]; ok && o.next.Equal(d.at) {
			o.next = time.Time{}
			w.decide(ctx, o)
		}
	}
	if w.due.Len() > 0 {
		w.arm(w.due[0].at)
	}
}

// dueAt is one scheduled decision; entries whose object was rescheduled since are skipped.
type dueAt struct {
	at  time.Time
	key string
}

type dueHeap []dueAt

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueAt)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
