package scaler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// rearmAfter is how long a stream's subscription stays off after a message woke its
// triggers: however busy the stream, at most one message per rearmAfter reaches the poller.
const rearmAfter = 100 * time.Millisecond

// Wake calls fire on the first message to the stream's subjects after a quiet spell, and
// again rearmAfter later, once subscribed anew, for whatever came in between. One client
// connection and subscription serve every trigger on the same stream and server.
func (n *natsJetStream) Wake(ctx context.Context, fire func()) (stop func(), err error) {
	key := Key("nats-jetstream-wake", n.m.ServerURL, n.m.MonitoringEndpoint, n.m.Account, n.m.Stream)
	log := n.log.With("source", "nats-jetstream", "monitoring", n.m.MonitoringEndpoint, "account", n.m.Account, "stream", n.m.Stream)
	return wakeOn(ctx, n.pool, key, log, n.watchStream, fire)
}

func (n *natsJetStream) watchStream(ctx context.Context, w *watch) error {
	url, err := n.clientURL(ctx)
	if err != nil {
		return err
	}
	closed := make(chan struct{})
	nc, err := nats.Connect(url, nats.Name("ebb-poller"), nats.NoCallbacksAfterClientClose(),
		// nats.go reconnects and subscribes again by itself, at the watch's pace; the watch
		// only follows along.
		nats.MaxReconnects(-1), nats.CustomReconnectDelay(func(attempts int) time.Duration { return retryDelay(attempts - 1) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				err = errors.New("connection lost")
			}
			w.lost(fmt.Errorf("disconnected: %w", err))
		}),
		nats.ReconnectHandler(func(*nats.Conn) { w.ready() }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { w.log.Warn("nats client error", "error", err) }))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	subjects, err := streamSubjects(ctx, nc, n.m.Stream)
	if err != nil {
		return err
	}
	hit := make(chan struct{}, 1)
	for first := true; ; first = false {
		subs, err := subscribeOnce(nc, subjects, hit)
		if err != nil {
			return err
		}
		// Flushed, the subscriptions are in place before anyone reads the stream.
		if err := flush(ctx, nc); err != nil && first {
			unsubscribe(subs)
			return fmt.Errorf("subscribe: %w", err)
		}
		if first {
			w.ready()
		} else {
			w.notify() // whatever arrived while unsubscribed
		}
		if !waitFor(ctx, closed, hit) {
			return closedError(ctx)
		}
		unsubscribe(subs)
		w.notify()
		if !waitFor(ctx, closed, time.After(rearmAfter)) {
			return closedError(ctx)
		}
		select {
		case <-hit: // a message that raced the unsubscribe
		default:
		}
	}
}

func flush(ctx context.Context, nc *nats.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return nc.FlushWithContext(ctx)
}

// clientURL is natsServerURL, or else the monitoring host at the client port /varz reports.
func (n *natsJetStream) clientURL(ctx context.Context) (string, error) {
	if n.m.ServerURL != "" {
		return n.m.ServerURL, nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var v varz
	if err := n.getVarz(ctx, n.m.MonitoringEndpoint, &v); err != nil {
		return "", fmt.Errorf("find the client port: %w", err)
	}
	switch {
	case v.AuthRequired:
		return "", permanent(errors.New("the server requires authentication: set natsServerURL, with credentials, in a TriggerAuthentication"))
	case v.Port <= 0:
		return "", permanent(errors.New("the monitoring endpoint reports no client port: set natsServerURL"))
	}
	host := n.m.MonitoringEndpoint
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	scheme := "nats"
	if v.TLSRequired {
		scheme = "tls"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(v.Port)), nil
}

// streamSubjects reads the subjects a stream captures.
func streamSubjects(ctx context.Context, nc *nats.Conn, stream string) ([]string, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("read the stream's subjects: %w", err)
	}
	subjects := s.CachedInfo().Config.Subjects
	if len(subjects) == 0 {
		return nil, permanent(errors.New("the stream captures no subjects of its own (a mirror, or sourced from other streams): nothing to subscribe to"))
	}
	return subjects, nil
}

// subscribeOnce subscribes to each subject for one message, which signals hit.
func subscribeOnce(nc *nats.Conn, subjects []string, hit chan<- struct{}) ([]*nats.Subscription, error) {
	signal := func(*nats.Msg) {
		select {
		case hit <- struct{}{}:
		default:
		}
	}
	subs := make([]*nats.Subscription, 0, len(subjects))
	for _, subject := range subjects {
		sub, err := nc.Subscribe(subject, signal)
		if err == nil {
			err = sub.AutoUnsubscribe(1) // the server sends no more than one
		}
		if err != nil {
			unsubscribe(append(subs, sub))
			return nil, fmt.Errorf("subscribe to %q: %w", subject, err)
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

func unsubscribe(subs []*nats.Subscription) {
	for _, s := range subs {
		if s != nil {
			_ = s.Unsubscribe()
		}
	}
}

// waitFor waits for ch; false means ctx ended or the connection closed first.
func waitFor[T any](ctx context.Context, closed <-chan struct{}, ch <-chan T) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-closed:
	}
	return false
}

func closedError(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("connection closed")
}
