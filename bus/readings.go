package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/schemas/msg"
)

// ReadingUpdate is one change in the readings bucket seen by WatchReadings.
type ReadingUpdate struct {
	Key      string      // msg.ReadingKey of the trigger
	Reading  msg.Reading // the latest reading; zero when Deleted, CaughtUp or Err
	Deleted  bool        // the trigger's key was deleted: its object or trigger is gone
	CaughtUp bool        // no key: every stored value has been delivered, what follows is live
	Err      error       // the stored value is not a valid reading
}

// Readings opens the bucket of latest readings.
func (c *Conn) Readings(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := c.js.KeyValue(ctx, ReadingsBucket(c.prefix))
	if err != nil {
		return nil, fmt.Errorf("open readings bucket: %w", err)
	}
	return kv, nil
}

// WatchReadings calls fn with the latest stored reading of every trigger f selects, then
// once with CaughtUp, then with every change as it happens, until ctx ends (returning nil) or
// fn returns an error. This is how a restarted service resumes from the last values.
func (c *Conn) WatchReadings(ctx context.Context, f msg.Filter, fn func(ReadingUpdate) error) error {
	kv, err := c.Readings(ctx)
	if err != nil {
		return err
	}
	w, err := kv.Watch(ctx, msg.ReadingKeyFilter(f))
	if err != nil {
		return fmt.Errorf("watch readings: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watch readings: watcher stopped")
			}
			if err := fn(readingUpdate(e)); err != nil {
				return err
			}
		}
	}
}

// LastReadings returns the latest stored reading of every trigger f selects. A stored value
// that is not a valid reading is left out and named in the returned error, alongside the
// readings that were valid.
func (c *Conn) LastReadings(ctx context.Context, f msg.Filter) ([]msg.Reading, error) {
	var out []msg.Reading
	var errs []error
	done := errors.New("caught up")
	err := c.WatchReadings(ctx, f, func(u ReadingUpdate) error {
		switch {
		case u.CaughtUp:
			return done
		case u.Err != nil:
			errs = append(errs, u.Err)
		case !u.Deleted:
			out = append(out, u.Reading)
		}
		return nil
	})
	if err != nil && !errors.Is(err, done) {
		return nil, err
	}
	if err == nil { // ctx ended before the stored values did
		return nil, fmt.Errorf("last readings: %w", context.Cause(ctx))
	}
	return out, errors.Join(errs...)
}

// DeleteReading removes a trigger's last value, for a trigger or object that is gone.
func (c *Conn) DeleteReading(ctx context.Context, ref msg.ObjectRef, trigger int) error {
	kv, err := c.Readings(ctx)
	if err != nil {
		return err
	}
	key := msg.ReadingKey(ref, trigger)
	if err := kv.Purge(ctx, key); err != nil {
		return fmt.Errorf("delete reading %s: %w", key, err)
	}
	return nil
}

func readingUpdate(e jetstream.KeyValueEntry) ReadingUpdate {
	if e == nil {
		return ReadingUpdate{CaughtUp: true}
	}
	u := ReadingUpdate{Key: e.Key()}
	if e.Operation() != jetstream.KeyValuePut {
		u.Deleted = true
		return u
	}
	r, err := msg.DecodeAs[msg.Reading](e.Value())
	if err != nil {
		u.Err = fmt.Errorf("reading key %s: %w", e.Key(), err)
		return u
	}
	u.Reading = r
	return u
}
