package poller

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scheduler holds every trigger this replica's group handles and runs a worker for each one
// this replica owns. Workers are goroutines, one per owned trigger: a slow source holds up
// its own trigger only, and each poll is bounded by the poll timeout.
type scheduler struct {
	p *Replica

	mu      sync.Mutex
	objects map[objectID][]*job
	workers map[string]*worker // by job key
	stopped bool               // Run is ending: late informer events start nothing
	wg      sync.WaitGroup
}

// worker polls one trigger until stopped. Its job is replaced in place when the object changes.
type worker struct {
	job     atomic.Pointer[job]
	wake    chan struct{} // the interval changed: compute the next slot again
	arrived chan struct{} // the source says work arrived: poll outside the schedule
	cancel  context.CancelFunc
	done    chan struct{}
}

func newScheduler(p *Replica) *scheduler {
	return &scheduler{p: p, objects: map[objectID][]*job{}, workers: map[string]*worker{}}
}

// set records the current triggers of obj: new ones start (if owned), changed ones take
// effect at their next poll, and removed ones stop and lose their last reading.
func (s *scheduler) set(ctx context.Context, obj client.Object) {
	id, js := jobs(obj, s.p.cfg.handles)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	keep := map[string]bool{}
	for _, j := range js {
		keep[j.key] = true
	}
	for _, old := range s.objects[id] {
		if !keep[old.key] {
			s.drop(old.key, true)
		}
	}
	if len(js) == 0 {
		delete(s.objects, id)
		return
	}
	s.objects[id] = js
	for _, j := range js {
		if w, ok := s.workers[j.key]; ok {
			prev := w.job.Swap(j)
			if prev.interval != j.interval {
				select {
				case w.wake <- struct{}{}:
				default:
				}
			}
			continue
		}
		if s.p.owns(j.key) {
			s.start(ctx, j)
		}
	}
}

// gone stops every trigger of a deleted object at once and deletes its readings.
func (s *scheduler) gone(obj client.Object) {
	id, _ := jobs(obj, s.p.cfg.handles)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	for _, j := range s.objects[id] {
		s.drop(j.key, true)
	}
	delete(s.objects, id)
}

// rebalance starts the triggers this replica gained and stops those it lost.
func (s *scheduler) rebalance(ctx context.Context) (started, stopped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, 0
	}
	for _, js := range s.objects {
		for _, j := range js {
			_, running := s.workers[j.key]
			switch owns := s.p.owns(j.key); {
			case owns && !running:
				s.start(ctx, j)
				started++
			case !owns && running:
				s.drop(j.key, false)
				stopped++
			}
		}
	}
	return started, stopped
}

// running is how many triggers this replica polls.
func (s *scheduler) running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.workers)
}

// stop ends every worker and waits for them.
func (s *scheduler) stop() {
	s.mu.Lock()
	s.stopped = true
	for key := range s.workers {
		s.drop(key, false)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// start runs a worker for j; s.mu is held.
func (s *scheduler) start(ctx context.Context, j *job) {
	ctx, cancel := context.WithCancel(ctx)
	w := &worker{wake: make(chan struct{}, 1), arrived: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	w.job.Store(j)
	s.workers[j.key] = w
	s.p.metrics.triggers.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(w.done)
		s.p.work(ctx, w)
	}()
}

// drop cancels the worker of key, if this replica runs one; with forget, the trigger is gone
// and its last reading is deleted once the worker has stopped (so no late publish revives
// it). s.mu is held.
func (s *scheduler) drop(key string, forget bool) {
	w, ok := s.workers[key]
	if !ok {
		return
	}
	delete(s.workers, key)
	s.p.metrics.triggers.Dec()
	w.cancel()
	if !forget {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-w.done
		s.p.forget(w.job.Load())
	}()
}

// wakeGap is the least time from the start of a poll to an extra poll a wake-up brings: a
// busy source gets at most one extra poll per trigger per wakeGap.
const wakeGap = 100 * time.Millisecond

// work is a worker's loop: wait for the trigger's slot or a wake-up from its source, poll,
// publish, repeat. Wake-ups add polls; the slots stay as they are.
func (p *Replica) work(ctx context.Context, w *worker) {
	j := w.job.Load()
	log := p.log.With("namespace", j.ref.Namespace, logKey(j), j.ref.Name, "trigger", j.index)
	var cur *source
	defer func() { cur.close() }()
	fire := func() {
		p.metrics.wakeUps.WithLabelValues(scalerLabel(p.kinds, w.job.Load().trigger.Type)).Inc()
		select {
		case w.arrived <- struct{}{}:
		default: // one is pending already
		}
	}
	p.prepare(ctx, j, &cur)
	p.startWake(ctx, cur, fire, log)
	next := firstPoll(p.clock.Now(), p.lastRead(ctx, j.key), j.interval, j.phase)
	timer := p.clock.NewTimer(next.Sub(p.clock.Now()))
	defer timer.Stop()
	var (
		extra    clock.Timer // the pending extra poll, if any
		lastPoll time.Time
		lastErr  string
	)
	defer func() { stopTimer(extra) }()
	for {
		scheduled := false
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			j = w.job.Load()
			next = slotAtOrAfter(p.clock.Now(), j.interval, j.phase)
			timer.Reset(next.Sub(p.clock.Now()))
			continue
		case <-w.arrived:
			if extra != nil {
				continue
			}
			at, ok := extraPollAt(p.clock.Now(), lastPoll, next)
			if !ok {
				continue
			}
			if wait := at.Sub(p.clock.Now()); wait > 0 {
				extra = p.clock.NewTimer(wait)
				continue
			}
		case <-timerC(extra):
		case <-timer.C():
			scheduled = true
		}
		stopTimer(extra) // this poll reads whatever a wake-up announced
		extra = nil
		j = w.job.Load()
		lastPoll = p.clock.Now()
		r := p.poll(ctx, j, &cur)
		if ctx.Err() != nil {
			return // stopped mid-poll: the trigger is gone or moved, publish nothing
		}
		p.metrics.polled(scalerLabel(p.kinds, j.trigger.Type), r, p.clock.Since(lastPoll))
		if r.Error != lastErr {
			if r.Error != "" {
				log.Warn("poll failed", "error", r.Error)
			} else {
				log.Info("poll succeeded again")
			}
			lastErr = r.Error
		}
		if err := p.publish(ctx, r); err != nil && ctx.Err() == nil {
			log.Warn("publish reading failed", "error", err)
		}
		p.startWake(ctx, cur, fire, log) // the poll may have built a new scaler
		if scheduled {
			next = slotAtOrAfter(maxTime(p.clock.Now(), next.Add(time.Nanosecond)), j.interval, j.phase)
			timer.Reset(next.Sub(p.clock.Now()))
		}
	}
}

// extraPollAt is when a wake-up at now polls: at once, or wakeGap after the last poll began.
// It is false when the scheduled poll at next comes no later.
func extraPollAt(now, last, next time.Time) (time.Time, bool) {
	at := maxTime(now, last.Add(wakeGap))
	return at, at.Before(next)
}

func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

func stopTimer(t clock.Timer) {
	if t != nil {
		t.Stop()
	}
}

func logKey(j *job) string { return objectID{kind: j.ref.Kind}.logKey() }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
