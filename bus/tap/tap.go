package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// Config says what to print and how.
type Config struct {
	Filter msg.Filter // namespace, kind and name; empty fields match anything
	Types  []msg.Type // default every type
	Since  time.Time  // zero prints live messages only; else replays the audit stream from here
	Follow bool       // with Since: after the replay, keep printing live messages
	Printer
}

// Validate reports settings Run would refuse, naming the flag-level field.
func (c Config) Validate() error {
	for _, t := range c.Types {
		if !slices.Contains(msg.Types(), t) {
			return fmt.Errorf("type: unknown message type %q (want reading, decision or action)", t)
		}
	}
	switch c.Filter.Kind {
	case "", msg.ScaledObject, msg.ScaledJob:
	default:
		return fmt.Errorf("kind: want ScaledObject or ScaledJob, got %q", c.Filter.Kind)
	}
	switch c.Output {
	case "", Text, JSON:
	default:
		return fmt.Errorf("output: want text or json, got %q", c.Output)
	}
	if !c.Since.IsZero() && !c.Follow && slices.Equal(c.types(), []msg.Type{msg.TypeReading}) {
		return errors.New("since: only decisions and actions are kept; readings can only be followed live")
	}
	return nil
}

func (c Config) types() []msg.Type {
	if len(c.Types) == 0 {
		return msg.Types()
	}
	return c.Types
}

// ParseSince reads --since: a duration back from now (90s, 1h) or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("since %q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q: want a duration such as 1h or a time such as 2026-11-28T14:00:00Z", s)
	}
	return t, nil
}

// Run prints until ctx ends (returning nil), or, when replaying without Follow, until the
// stored messages are printed.
func Run(ctx context.Context, c *bus.Conn, cfg Config, w io.Writer) error {
	s, err := Start(ctx, c, cfg, w)
	if err != nil {
		return err
	}
	return s.Wait()
}

// Session is a tap that has subscribed and is printing.
type Session struct {
	ctx     context.Context
	conn    *bus.Conn
	w       io.Writer
	printer Printer
	lines   chan string
	replay  chan error // receives the replay's outcome; nil when live only
	subs    []*nats.Subscription
	once    sync.Once
}

// lineBuffer is how many formatted lines wait for a slow writer before receiving blocks.
const lineBuffer = 1024

// Start subscribes and begins printing; it returns once the server has accepted every
// subscription, so nothing published afterwards is missed.
func Start(ctx context.Context, c *bus.Conn, cfg Config, w io.Writer) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	s := &Session{ctx: ctx, conn: c, w: w, printer: cfg.Printer, lines: make(chan string, lineBuffer)}
	p := c.Prefix()
	var live, stored []string
	for _, t := range cfg.types() {
		subject := p.Filter(t, cfg.Filter)
		if cfg.Since.IsZero() || t == msg.TypeReading {
			live = append(live, subject)
		} else {
			stored = append(stored, subject)
		}
	}
	if !cfg.Since.IsZero() && !cfg.Follow {
		live = nil
	}
	for _, subject := range live {
		sub, err := c.Subscribe(ctx, subject, func(m *nats.Msg) { s.print(m.Subject, m.Data) })
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("tap: %w", err)
		}
		s.subs = append(s.subs, sub)
	}
	if len(stored) > 0 {
		s.replay = make(chan error, 1)
		r := bus.Replay{Since: cfg.Since, Subjects: stored, Follow: cfg.Follow}
		go func() {
			s.replay <- c.ReplayAudit(ctx, r, func(m bus.AuditMessage) error {
				s.print(m.Subject, m.Data)
				return nil
			})
		}()
	}
	return s, nil
}

// print queues one message's line; it waits for the writer rather than drop a line.
func (s *Session) print(subject string, data []byte) {
	select {
	case s.lines <- s.printer.Line(subject, data):
	case <-s.ctx.Done():
	}
}

// Wait writes lines until ctx ends, the bus reports an error, or a replay without Follow
// has delivered every stored message.
func (s *Session) Wait() error {
	defer s.stop()
	for {
		select {
		case line := <-s.lines:
			if err := s.write(line); err != nil {
				return err
			}
		case err := <-s.replay:
			if err != nil {
				return fmt.Errorf("tap: %w", err)
			}
			s.replay = nil
			if len(s.subs) == 0 { // a replay alone: print what is queued and stop
				return s.drain()
			}
		case err := <-s.conn.Err():
			return fmt.Errorf("tap: %w", err)
		case <-s.ctx.Done():
			return nil
		}
	}
}

func (s *Session) drain() error {
	for {
		select {
		case line := <-s.lines:
			if err := s.write(line); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (s *Session) write(line string) error {
	if _, err := io.WriteString(s.w, strings.TrimRight(line, "\n")+"\n"); err != nil {
		return fmt.Errorf("tap: write: %w", err)
	}
	return nil
}

func (s *Session) stop() {
	s.once.Do(func() {
		for _, sub := range s.subs {
			_ = sub.Unsubscribe()
		}
	})
}
