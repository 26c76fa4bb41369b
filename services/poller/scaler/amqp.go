package scaler

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"ebb.dev/schemas/trigger"
)

// amqpTarget is where and as whom an AMQP connection logs in.
type amqpTarget struct {
	url            string // the trigger's host, credentials included
	vhost          string
	user, password string
	tls            *tls.Config // for amqps://
}

// newAMQPTarget reads the trigger's host with vhostName, username and password overriding
// the URL's, as KEDA does.
func newAMQPTarget(m trigger.RabbitMQ, tlsSet tlsSettings) (amqpTarget, error) {
	uri, err := amqp.ParseURI(m.Host)
	if err != nil {
		return amqpTarget{}, errors.New("host is not an AMQP URL") // the parse error may quote the password
	}
	t := amqpTarget{url: m.Host, vhost: uri.Vhost, user: uri.Username, password: uri.Password}
	if m.VhostName != "" {
		t.vhost = m.VhostName
	}
	if m.Username != "" {
		t.user, t.password = m.Username, m.Password
	}
	if uri.Scheme == "amqps" {
		if t.tls, err = tlsSet.config(); err != nil {
			return amqpTarget{}, err
		}
	}
	return t, nil
}

// amqpCloseTimeout bounds the close handshake with a broker that may be gone.
const amqpCloseTimeout = 2 * time.Second

// amqpConn is one pooled AMQP connection with one channel, opened on first use and reopened
// after the broker closes either. Declares take turns: a channel matches replies to requests
// by order only, so concurrent declares could read each other's counts.
type amqpConn struct {
	target amqpTarget
	turn   chan struct{} // held for one declare
	ch     *amqp.Channel // used only while holding turn

	mu     sync.Mutex // guards conn and closed, which abort and Close touch without a turn
	conn   *amqp.Connection
	closed bool
}

func newAMQPConn(t amqpTarget) *amqpConn {
	return &amqpConn{target: t, turn: make(chan struct{}, 1)}
}

type declareResult struct {
	messages int
	err      error
}

// readyCount returns the number of ready messages in queue. When ctx ends first it drops the
// connection, which also ends the declare still in flight; the next call reconnects.
func (c *amqpConn) readyCount(ctx context.Context, queue string) (int, error) {
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	done := make(chan declareResult, 1)
	go func() {
		defer func() { <-c.turn }()
		n, err := c.declare(ctx, queue)
		done <- declareResult{n, err}
	}()
	select {
	case r := <-done:
		return r.messages, r.err
	case <-ctx.Done():
		go c.abort()
		return 0, ctx.Err()
	}
}

func (c *amqpConn) declare(ctx context.Context, queue string) (int, error) {
	ch, err := c.channel(ctx)
	if err != nil {
		return 0, err
	}
	// A queue that does not exist closes the channel; channel() opens a new one next time.
	q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
	if err != nil {
		return 0, err
	}
	return q.Messages, nil
}

func (c *amqpConn) channel(ctx context.Context) (*amqp.Channel, error) {
	if c.ch != nil && !c.ch.IsClosed() {
		return c.ch, nil
	}
	conn, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	c.ch = ch
	return ch, nil
}

func (c *amqpConn) connection(ctx context.Context) (*amqp.Connection, error) {
	c.mu.Lock()
	conn, closed := c.conn, c.closed
	c.mu.Unlock()
	if closed {
		return nil, amqp.ErrClosed
	}
	if conn != nil && !conn.IsClosed() {
		return conn, nil
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed { // Close ran while dialling
		go conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
		return nil, amqp.ErrClosed
	}
	c.conn = conn
	return conn, nil
}

// dial connects and logs in, within ctx's deadline for TCP, TLS and the AMQP handshake.
func (c *amqpConn) dial(ctx context.Context) (*amqp.Connection, error) {
	t := c.target
	cfg := amqp.Config{
		Vhost:      t.vhost,
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: t.user, Password: t.password}}, // fresh: a login zeroes it
		Properties: amqp.Table{"connection_name": "ebb-poller"},
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			deadline, ok := ctx.Deadline()
			if !ok {
				deadline = time.Now().Add(30 * time.Second)
			}
			// Bounds TLS and AMQP handshakes; the library clears it once the connection is open.
			return conn, conn.SetDeadline(deadline)
		},
	}
	if t.tls != nil {
		cfg.TLSClientConfig = t.tls.Clone() // the library sets ServerName on it
	}
	conn, err := amqp.DialConfig(t.url, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// abort drops the connection after a read timed out, ending any declare stuck on it.
func (c *amqpConn) abort() {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		_ = conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
	}
}

// Close closes the connection for good; the pool calls it when no scaler uses it.
func (c *amqpConn) Close() error {
	c.mu.Lock()
	conn := c.conn
	c.conn, c.closed = nil, true
	c.mu.Unlock()
	if conn == nil || conn.IsClosed() {
		return nil
	}
	return conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
}
