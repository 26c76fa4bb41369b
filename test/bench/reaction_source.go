package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/scaler"
	"ebb.dev/test/servers/rabbitmq"
)

// perReplica is the trigger's target: 5 messages per replica, so a burst of 100 asks for 20.
const perReplica = "5"

// queue is one lane's work queue at its event source.
type queue interface {
	// trigger is the ScaledObject's trigger reading this queue; its secret parameters come
	// from auth (a TriggerAuthentication), which queue also returns.
	trigger() (kind string, metadata, auth map[string]string)
	// publish puts n messages in one burst and returns when the source holds them all.
	publish(ctx context.Context, n int) error
	// drain drops every message, as consumers that finished the work would.
	drain(ctx context.Context) error
	close()
}

// timeReads times reads of q's trigger by the poller's own scaler code, in this process,
// against the same source: what one poll takes. The first read, which connects, is left out.
func timeReads(ctx context.Context, q queue, n int) ([]time.Duration, error) {
	kind, md, auth := q.trigger()
	m, errs := trigger.Builtin().Parse(kind, trigger.Params{Metadata: md, Auth: auth}, field.NewPath("trigger"))
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	s, err := scaler.Builtin().Build(kind, m, scaler.Deps{})
	if err != nil {
		return nil, err
	}
	if c, ok := s.(interface{ Close() error }); ok {
		defer c.Close()
	}
	var out []time.Duration
	for i := range n + 1 {
		start := time.Now()
		if _, err := s.Read(ctx); err != nil {
			return nil, fmt.Errorf("read %s: %w", kind, err)
		}
		if i > 0 {
			out = append(out, time.Since(start))
		}
	}
	return out, nil
}

// rabbitSource is one RabbitMQ broker; each lane gets its own vhost and queue on it.
type rabbitSource struct {
	broker *rabbitmq.Server
}

func startRabbit(ctx context.Context, dir string) (*rabbitSource, error) {
	b, err := rabbitmq.Start(ctx, filepath.Join(dir, "rabbitmq"), rabbitmq.Options{})
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: %w", err)
	}
	return &rabbitSource{broker: b}, nil
}

func (s *rabbitSource) stop() error { return s.broker.Stop() }

// queue declares queue "orders" in vhost and connects a publisher to it.
func (s *rabbitSource) queue(ctx context.Context, vhost string) (queue, error) {
	for _, err := range []error{s.broker.AddVhost(ctx, vhost), s.broker.Permit(ctx, vhost, "guest"), s.broker.DeclareQueue(ctx, vhost, "orders")} {
		if err != nil {
			return nil, fmt.Errorf("rabbitmq vhost %s: %w", vhost, err)
		}
	}
	q := &rabbitQueue{url: s.broker.AMQPURL("guest", "guest", vhost)}
	var err error
	if q.conn, err = amqp.Dial(q.url); err != nil {
		return nil, fmt.Errorf("rabbitmq: dial: %w", err)
	}
	if q.ch, err = q.conn.Channel(); err == nil {
		err = q.ch.Confirm(false)
	}
	if err != nil {
		q.conn.Close()
		return nil, fmt.Errorf("rabbitmq: publisher channel: %w", err)
	}
	return q, nil
}

type rabbitQueue struct {
	url  string
	conn *amqp.Connection
	ch   *amqp.Channel
}

func (q *rabbitQueue) trigger() (string, map[string]string, map[string]string) {
	return "rabbitmq", map[string]string{"queueName": "orders", "mode": "QueueLength", "value": perReplica},
		map[string]string{"host": q.url}
}

// publish sends n persistent messages without waiting in between, then waits for every
// publisher confirm.
func (q *rabbitQueue) publish(ctx context.Context, n int) error {
	confirms := make([]*amqp.DeferredConfirmation, n)
	for i := range n {
		var err error
		if confirms[i], err = q.ch.PublishWithDeferredConfirmWithContext(ctx, "", "orders", false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "order %d", i)}); err != nil {
			return fmt.Errorf("rabbitmq: publish: %w", err)
		}
	}
	for i, c := range confirms {
		if ok, err := c.WaitContext(ctx); !ok || err != nil {
			return fmt.Errorf("rabbitmq: message %d not confirmed: %v", i, err)
		}
	}
	return nil
}

func (q *rabbitQueue) drain(context.Context) error {
	if _, err := q.ch.QueuePurge("orders", false); err != nil {
		return fmt.Errorf("rabbitmq: purge: %w", err)
	}
	return nil
}

func (q *rabbitQueue) close() { q.conn.Close() }

// natsSource is an embedded NATS server with JetStream, as ebb-demo runs one; each lane gets
// its own stream and consumer on it.
type natsSource struct {
	server *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
}

func startNATS(dir string) (*natsSource, error) {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, HTTPHost: "127.0.0.1", HTTPPort: -1, JetStream: true,
		StoreDir: filepath.Join(dir, "nats"), NoLog: true, NoSigs: true}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats source: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats source: not ready within 10 s")
	}
	s := &natsSource{server: srv}
	if s.nc, err = nats.Connect(srv.ClientURL()); err == nil {
		s.js, err = jetstream.New(s.nc)
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("nats source: %w", err)
	}
	return s, nil
}

func (s *natsSource) stop() error {
	if s.nc != nil {
		s.nc.Close()
	}
	s.server.Shutdown()
	s.server.WaitForShutdown()
	return nil
}

// queue creates stream name (subjects name.>) with a durable consumer "workers".
func (s *natsSource) queue(ctx context.Context, name string) (queue, error) {
	stream, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}})
	if err != nil {
		return nil, fmt.Errorf("nats: stream %s: %w", name, err)
	}
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		return nil, fmt.Errorf("nats: consumer of %s: %w", name, err)
	}
	return &natsQueue{src: s, stream: stream, name: name}, nil
}

type natsQueue struct {
	src    *natsSource
	stream jetstream.Stream
	name   string
}

// trigger sets natsServerURL, so the poller subscribes to the stream's subjects and polls
// at once when work arrives (push wake-ups).
func (q *natsQueue) trigger() (string, map[string]string, map[string]string) {
	return "nats-jetstream", map[string]string{
		"natsServerMonitoringEndpoint": q.src.server.MonitorAddr().String(),
		"stream":                       q.name, "consumer": "workers", "lagThreshold": perReplica,
	}, map[string]string{"natsServerURL": q.src.server.ClientURL()}
}

// publish sends n messages asynchronously and waits until the stream has acknowledged all.
func (q *natsQueue) publish(ctx context.Context, n int) error {
	acks := make([]jetstream.PubAckFuture, n)
	for i := range n {
		var err error
		if acks[i], err = q.src.js.PublishAsync(q.name+".new", fmt.Appendf(nil, "job %d", i)); err != nil {
			return fmt.Errorf("nats: publish: %w", err)
		}
	}
	for i, a := range acks {
		select {
		case <-a.Ok():
		case err := <-a.Err():
			return fmt.Errorf("nats: message %d not stored: %w", i, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (q *natsQueue) drain(ctx context.Context) error {
	if err := q.stream.Purge(ctx); err != nil {
		return fmt.Errorf("nats: purge %s: %w", q.name, err)
	}
	return nil
}

func (q *natsQueue) close() {}

var (
	_ queue = (*rabbitQueue)(nil)
	_ queue = (*natsQueue)(nil)
)
