package bustest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
)

// Capture records every message that crosses the bus from the moment it starts: every
// subject of the account, JetStream API requests and replies included.
type Capture struct {
	conn *bus.Conn
	sub  *nats.Subscription // synchronous: after a flush, every earlier message is queued on it
	mu   sync.Mutex
	msgs []*nats.Msg
}

// Capture starts recording as admin until the test ends.
func (b *Bus) Capture(t testing.TB) *Capture {
	t.Helper()
	c := &Capture{conn: b.ConnectInProcess(t, bus.RoleAdmin)}
	sub, err := c.conn.NATS().SubscribeSync(">")
	if err == nil {
		err = sub.SetPendingLimits(-1, -1) // never drop a message as a slow consumer
	}
	if err == nil {
		err = c.conn.Flush(context.Background())
	}
	if err != nil {
		t.Fatalf("bustest: capture: %v", err)
	}
	c.sub = sub
	return c
}

// Count is how many messages have been captured so far.
func (c *Capture) Count(ctx context.Context) (int, error) {
	if err := c.collect(ctx); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs), nil
}

// collect moves every message the server sent before now into c.msgs.
func (c *Capture) collect(ctx context.Context) error {
	if err := c.conn.Flush(ctx); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		m, err := c.sub.NextMsg(0)
		if errors.Is(err, nats.ErrTimeout) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("capture: %w", err)
		}
		c.msgs = append(c.msgs, m)
	}
}

// AssertNever fails t for every place secret appears on the bus: see Leaks.
func (c *Capture) AssertNever(t testing.TB, secret []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leaks, err := c.Leaks(ctx, secret)
	if err != nil {
		t.Fatalf("bustest: %v", err)
	}
	for _, l := range leaks {
		t.Errorf("a secret crossed the bus: %s", l)
	}
}

// Leaks lists where secret appears, as is or JSON-escaped: in the subject, reply subject,
// headers or data of a captured message, or of any message stored in any stream (every KV
// bucket included), whenever it was stored. Stored messages are read as stored, so a secret
// that travelled base64-encoded in a JetStream API reply is still found.
func (c *Capture) Leaks(ctx context.Context, secret []byte) ([]string, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("capture: an empty secret matches everything")
	}
	if err := c.collect(ctx); err != nil {
		return nil, err
	}
	forms := secretForms(secret)
	var leaks []string
	c.mu.Lock()
	for _, m := range c.msgs {
		if where := find(forms, m.Subject, m.Reply, m.Header, m.Data); where != "" {
			leaks = append(leaks, fmt.Sprintf("message on %s: %s", m.Subject, where))
		}
	}
	c.mu.Unlock()
	stored, err := c.storedLeaks(ctx, forms)
	return append(leaks, stored...), err
}

func (c *Capture) storedLeaks(ctx context.Context, forms [][]byte) ([]string, error) {
	js := c.conn.JetStream()
	var leaks []string
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		err := eachStored(ctx, js, name, func(m jetstream.Msg) {
			if where := find(forms, m.Subject(), "", m.Headers(), m.Data()); where != "" {
				meta, _ := m.Metadata()
				leaks = append(leaks, fmt.Sprintf("stream %s message %d on %s: %s", name, meta.Sequence.Stream, m.Subject(), where))
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("capture: list streams: %w", err)
	}
	return leaks, nil
}

func eachStored(ctx context.Context, js jetstream.JetStream, stream string, fn func(jetstream.Msg)) error {
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("capture: read stream %s: %w", stream, err)
	}
	for {
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return fmt.Errorf("capture: read stream %s: %w", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			fn(m)
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("capture: read stream %s: %w", stream, err)
		}
		if n == 0 {
			return nil
		}
	}
}

func secretForms(secret []byte) [][]byte {
	forms := [][]byte{secret}
	quoted, _ := json.Marshal(string(secret))
	if escaped := quoted[1 : len(quoted)-1]; !bytes.Equal(escaped, secret) {
		forms = append(forms, escaped)
	}
	return forms
}

// find names the first part of a message that holds one of forms, or returns "".
func find(forms [][]byte, subject, reply string, h nats.Header, data []byte) string {
	parts := []struct {
		name string
		b    []byte
	}{{"subject", []byte(subject)}, {"reply subject", []byte(reply)}, {"data", data}}
	for k, vs := range h {
		for _, v := range vs {
			parts = append(parts, struct {
				name string
				b    []byte
			}{"header " + k, []byte(k + ": " + v)})
		}
	}
	for _, p := range parts {
		for _, f := range forms {
			if bytes.Contains(p.b, f) {
				return p.name
			}
		}
	}
	return ""
}
