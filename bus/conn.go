package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"ebb.dev/schemas/msg"
)

// ClientConfig is how a service reaches the bus. Set one of Password, PasswordFile and
// NKeySeedFile; the files are what a mounted Secret provides.
type ClientConfig struct {
	URL          string // nats:// or tls:// URLs, comma-separated (every cluster node)
	User         string // also names the service's inbox prefix
	Password     string
	PasswordFile string
	NKeySeedFile string
	CAFile       string // trust this CA for TLS
	CertFile     string // client certificate, when the bus verifies clients
	KeyFile      string
	Prefix       msg.Prefix
	Name         string       // connection name in the server's monitoring; default the user
	Logger       *slog.Logger // default discards
}

// Conn is a service's connection to the bus. Its methods return permission denials as
// errors; asynchronous problems arrive on Err.
type Conn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	prefix msg.Prefix
	log    *slog.Logger
	errs   chan error
	denied *denials
}

// flushTimeout bounds a flush whose context has no deadline.
const flushTimeout = 10 * time.Second

// publishAckTimeout is how long a publish waits for its stream's ack before sending again.
const publishAckTimeout = 5 * time.Second

// errBuffer is how many asynchronous errors Err holds for a service that is busy; the rest
// are logged only.
const errBuffer = 64

// Connect dials the bus, retrying refused connections until ctx ends. A wrong password or
// an unknown user fails at once.
func Connect(ctx context.Context, cfg ClientConfig) (*Conn, error) {
	if cfg.URL == "" {
		return nil, errors.New("connect to bus: url must be set")
	}
	var opts []nats.Option
	switch {
	case cfg.PasswordFile != "":
		pw, err := ReadSecretFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("connect to bus as %s: %w", cfg.User, err)
		}
		cfg.Password = pw
	case cfg.NKeySeedFile != "":
		opt, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("connect to bus as %s: read nkey seed: %w", cfg.User, err)
		}
		opts = append(opts, opt)
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	for {
		c, err := connect(ctx, cfg, opts...)
		if err == nil || !errors.Is(err, nats.ErrNoServers) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func connect(ctx context.Context, cfg ClientConfig, extra ...nats.Option) (*Conn, error) {
	if cfg.User == "" {
		return nil, errors.New("connect to bus: user must be set")
	}
	if cfg.Name == "" {
		cfg.Name = cfg.User
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		prefix: cfg.Prefix,
		log:    cfg.Logger.With("component", "bus", "user", cfg.User),
		errs:   make(chan error, errBuffer),
		denied: newDenials(),
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.CustomInboxPrefix(inboxPrefix(cfg.User)),
		nats.ErrorHandler(c.asyncError),
		nats.PermissionErrOnSubscribe(true),
		nats.MaxReconnects(-1),
		nats.Timeout(readyTimeout(ctx)),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("bus disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { c.log.Info("bus reconnected", "server", nc.ConnectedServerName()) }),
	}
	if cfg.Password != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	nc, err := nats.Connect(cfg.URL, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to bus as %s: %w", cfg.User, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(publishAckTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to bus as %s: %w", cfg.User, err)
	}
	c.nc, c.js = nc, js
	return c, nil
}

// NATS is the underlying connection, for what Conn does not wrap.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// JetStream is the connection's JetStream context.
func (c *Conn) JetStream() jetstream.JetStream { return c.js }

// Prefix is the subject prefix this connection publishes under.
func (c *Conn) Prefix() msg.Prefix { return c.prefix }

// Err delivers errors the server reported asynchronously: permission violations (say, a
// JetStream API call the role may not make) and slow consumers. Each is also logged.
func (c *Conn) Err() <-chan error { return c.errs }

// Close drains nothing: it closes the connection at once.
func (c *Conn) Close() { c.nc.Close() }

// Publish encodes m and publishes it on its subject, waiting until a stream has stored it.
func (c *Conn) Publish(ctx context.Context, m msg.Message) error {
	data, err := msg.Marshal(m)
	if err != nil {
		return err
	}
	return c.PublishData(ctx, c.prefix.Subject(m), data)
}

// PublishData publishes data on subject and waits for the stream that captures the subject
// to store it. While the bus is reconnecting or a stream is electing a leader it retries,
// under one message ID so the stream stores the message once, until ctx ends. A denied
// publish returns an error wrapping nats.ErrPermissionViolation.
func (c *Conn) PublishData(ctx context.Context, subject string, data []byte) error {
	id := nuid.Next()
	for {
		err := c.publishOnce(ctx, subject, data, id)
		if err == nil || !retryablePublish(err) {
			return err
		}
		c.log.Debug("bus publish will be retried", "subject", subject, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish %s: %w (last error: %w)", subject, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Conn) publishOnce(ctx context.Context, subject string, data []byte, id string) error {
	if err := c.denied.get(verbPublish, subject); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	changed := c.denied.changed()
	ack, err := c.js.PublishAsync(subject, data, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	for {
		select {
		case <-ack.Ok():
			return nil
		case err := <-ack.Err():
			return fmt.Errorf("publish %s: %w", subject, err)
		case <-changed:
			if err := c.denied.get(verbPublish, subject); err != nil {
				return fmt.Errorf("publish %s: %w", subject, err)
			}
			changed = c.denied.changed()
		case <-ctx.Done():
			return fmt.Errorf("publish %s: %w", subject, ctx.Err())
		}
	}
}

// retryablePublish reports the failures that pass on their own: a connection that is
// reconnecting, a stream between leaders, an ack lost with a node.
func retryablePublish(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503
	}
	return errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrAsyncPublishTimeout)
}

// Subscribe delivers core messages on subject to h, once the server has accepted the
// subscription; a denied one returns an error wrapping nats.ErrPermissionViolation.
func (c *Conn) Subscribe(ctx context.Context, subject string, h nats.MsgHandler) (*nats.Subscription, error) {
	return c.subscribe(ctx, subject, "", h)
}

// QueueSubscribe is Subscribe in a queue group: each message goes to one member.
func (c *Conn) QueueSubscribe(ctx context.Context, subject, queue string, h nats.MsgHandler) (*nats.Subscription, error) {
	return c.subscribe(ctx, subject, queue, h)
}

func (c *Conn) subscribe(ctx context.Context, subject, queue string, h nats.MsgHandler) (*nats.Subscription, error) {
	sub, err := c.nc.QueueSubscribe(subject, queue, h)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	// The server answers a denied SUB with -ERR before the PONG that ends this flush, and the
	// client records it as the connection's last error before it reads the PONG.
	if err := c.flush(ctx); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	last := c.nc.LastError()
	if errors.Is(last, nats.ErrPermissionViolation) && strings.Contains(last.Error(), `Subscription to "`+subject+`"`) {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subject, last)
	}
	if err := c.denied.get(verbSubscribe, subject); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	return sub, nil
}

// flush waits until the server has processed everything sent so far, for at most
// flushTimeout when ctx has no deadline of its own.
func (c *Conn) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	return c.nc.FlushWithContext(ctx)
}

// Flush waits until the server has processed everything this connection sent.
func (c *Conn) Flush(ctx context.Context) error {
	if err := c.flush(ctx); err != nil {
		return fmt.Errorf("flush bus connection: %w", err)
	}
	return nil
}

func (c *Conn) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if sub != nil {
		err = fmt.Errorf("subscription %s: %w", sub.Subject, err)
	}
	c.denied.record(err)
	c.log.Error("bus reported an error", "error", err)
	select {
	case c.errs <- err:
	default: // the service is not reading Err; the log line above still says it
	}
}

type verb string

const (
	verbPublish   verb = "Publish"
	verbSubscribe verb = "Subscription"
)

var violationRe = regexp.MustCompile(`(Publish|Subscription) to "(\S+)"`)

// denials remembers which subjects the server refused, so a publish waiting for its ack
// learns it will never come.
type denials struct {
	mu      sync.Mutex
	errs    map[string]error // by verb + " " + subject
	changes chan struct{}    // closed and replaced on every new denial
}

func newDenials() *denials {
	return &denials{errs: map[string]error{}, changes: make(chan struct{})}
}

func (d *denials) record(err error) {
	m := violationRe.FindStringSubmatch(err.Error())
	if !errors.Is(err, nats.ErrPermissionViolation) || m == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs[m[1]+" "+m[2]] = err
	close(d.changes)
	d.changes = make(chan struct{})
}

func (d *denials) get(v verb, subject string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errs[string(v)+" "+subject]
}

func (d *denials) changed() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changes
}
