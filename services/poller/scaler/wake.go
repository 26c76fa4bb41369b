package scaler

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Push wake-ups. A scaler whose source can say that work arrived has a method
//
//	Wake(ctx context.Context, fire func()) (stop func(), err error)
//
// (the poller's Waker): it calls fire on such news until stop is called or ctx ends, and the
// poller then polls the trigger outside its schedule. A wake-up is only a hint: the value
// always comes from Read. Triggers on the same source share one subscription, a watch kept in
// the Pool, which runs until the last of them stops.

// watchFunc keeps one subscription up until ctx ends: it calls w.ready once subscribed and
// w.notify on news, and returns when the subscription fails (the watch retries it after a
// backoff) or ctx ends. A permanent error stops the retries.
type watchFunc func(ctx context.Context, w *watch) error

// Retry delays of a failed subscription, doubled from the first to the last.
const (
	watchRetryMin = 500 * time.Millisecond
	watchRetryMax = 30 * time.Second
)

// watch is one subscription to a source's news, shared by the triggers that wake on it.
type watch struct {
	log    *slog.Logger // names the source, never a secret
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	fires  map[int]func()
	nextID int
	up     bool // subscribed now
	wasUp  bool // subscribed at least once
	broken bool // failed since it was last up: the next ready logs the recovery
}

// startWatch runs run in the background until the watch is closed.
func startWatch(log *slog.Logger, run watchFunc) *watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{log: log, cancel: cancel, done: make(chan struct{}), fires: map[int]func(){}}
	go w.loop(ctx, run)
	return w
}

func (w *watch) loop(ctx context.Context, run watchFunc) {
	defer close(w.done)
	attempt := 0
	for {
		err := run(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if w.lost(err) {
			attempt = 0 // it was up: a new failure starts the backoff over
		}
		if errors.As(err, new(permanentError)) {
			<-ctx.Done()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryDelay(attempt)):
		}
		attempt++
	}
}

// retryDelay is the wait before retry attempt (0 for the first): watchRetryMin doubled per
// attempt up to watchRetryMax, less a random part of up to a half, so the watches of one
// restarted server do not retry in step.
func retryDelay(attempt int) time.Duration {
	d := watchRetryMax
	if attempt < 16 {
		d = min(watchRetryMin<<attempt, watchRetryMax)
	}
	return d/2 + rand.N(d/2+1)
}

// ready says the subscription is up. After a failure it wakes every trigger: news may have
// been missed while it was down.
func (w *watch) ready() {
	w.mu.Lock()
	recovered := w.broken
	first := !w.wasUp
	w.up, w.wasUp, w.broken = true, true, false
	w.mu.Unlock()
	switch {
	case recovered:
		w.log.Info("push wake-ups re-established")
		w.notify()
	case first:
		w.log.Debug("push wake-ups on")
	}
}

// lost says the subscription is down, or could not be made, because of err; it reports
// whether it had been up. The first failure of an outage is a warning, retries are debug.
func (w *watch) lost(err error) (wasUp bool) {
	if err == nil {
		err = errors.New("subscription ended")
	}
	w.mu.Lock()
	wasUp, repeated := w.up, w.broken
	w.up, w.broken = false, true
	w.mu.Unlock()
	switch {
	case errors.As(err, new(permanentError)):
		w.log.Warn("push wake-ups off; polls keep to pollingInterval", "error", err)
	case repeated:
		w.log.Debug("push wake-ups still failing", "error", err)
	default:
		w.log.Warn("push wake-ups failed; polls keep to pollingInterval while they are retried", "error", err)
	}
	return wasUp
}

// notify wakes every trigger on the watch.
func (w *watch) notify() {
	w.mu.Lock()
	fires := make([]func(), 0, len(w.fires))
	for _, f := range w.fires {
		fires = append(fires, f)
	}
	w.mu.Unlock()
	for _, f := range fires {
		f()
	}
}

// add makes notify call fire, until remove is called.
func (w *watch) add(fire func()) (remove func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.nextID
	w.nextID++
	w.fires[id] = fire
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fires, id)
	}
}

// Close ends the subscription and waits for it.
func (w *watch) Close() error {
	w.cancel()
	<-w.done
	return nil
}

// wakeOn calls fire on the news of the watch stored under key in p, starting the watch with
// run and log if no trigger uses it yet, until stop is called or ctx ends. Build key with Key.
func wakeOn(ctx context.Context, p *Pool, key string, log *slog.Logger, run watchFunc, fire func()) (stop func(), err error) {
	w, release, err := Acquire(p, key, func() (*watch, error) { return startWatch(log, run), nil })
	if err != nil {
		return nil, err
	}
	remove := w.add(fire)
	var once sync.Once
	end := func() {
		once.Do(func() {
			remove()
			_ = release()
		})
	}
	unhook := context.AfterFunc(ctx, end)
	return func() {
		unhook()
		end()
	}, nil
}

// permanentError is a subscription failure that retrying cannot mend (the trigger's settings
// leave nothing to subscribe to); the watch gives up until its triggers change. Refused
// credentials are not permanent: they may be fixed on the server.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }
