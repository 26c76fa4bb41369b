package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/schemas/msg"
)

// Replay selects stored decisions and actions from the audit stream.
type Replay struct {
	Since    time.Time // zero replays from the first stored message
	Subjects []string  // subjects within the audit stream; default every decision and action
	Follow   bool      // after the stored messages, deliver new ones as they come until ctx ends
	// LastPerSubject starts from the newest stored message of each subject (each object's
	// last decision), so a restarted service resumes without reading a week of history.
	// It excludes Since.
	LastPerSubject bool
}

// AuditMessage is one stored decision or action.
type AuditMessage struct {
	Subject string
	Data    []byte
	Stored  time.Time // when the stream stored it
	Seq     uint64    // its sequence in the audit stream
}

// replayBatch is how many stored messages one fetch asks for.
const replayBatch = 256

// ReplayAudit calls fn with each selected message in the order the stream stored it, until
// the stored ones are exhausted (or, with Follow, until ctx ends; that returns nil) or fn
// returns an error.
func (c *Conn) ReplayAudit(ctx context.Context, r Replay, fn func(AuditMessage) error) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: r.Subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	if len(cfg.FilterSubjects) == 0 {
		cfg.FilterSubjects = []string{c.prefix.All(msg.TypeDecision), c.prefix.All(msg.TypeAction)}
	}
	switch {
	case r.LastPerSubject && !r.Since.IsZero():
		return errors.New("replay audit: since and last per subject exclude each other")
	case r.LastPerSubject:
		cfg.DeliverPolicy = jetstream.DeliverLastPerSubjectPolicy
	case !r.Since.IsZero():
		since := r.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := c.js.OrderedConsumer(ctx, AuditStream(c.prefix), cfg)
	if err != nil {
		return fmt.Errorf("replay audit: %w", err)
	}
	if r.Follow {
		return follow(ctx, cons, fn)
	}
	for {
		batch, err := cons.FetchNoWait(replayBatch)
		if err != nil {
			return fmt.Errorf("replay audit: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if err := deliver(m, fn); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("replay audit: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

func follow(ctx context.Context, cons jetstream.Consumer, fn func(AuditMessage) error) error {
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("replay audit: %w", err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay audit: %w", err)
		}
		if err := deliver(m, fn); err != nil {
			return err
		}
	}
}

func deliver(m jetstream.Msg, fn func(AuditMessage) error) error {
	meta, err := m.Metadata()
	if err != nil {
		return fmt.Errorf("replay audit: %w", err)
	}
	return fn(AuditMessage{Subject: m.Subject(), Data: m.Data(), Stored: meta.Timestamp, Seq: meta.Sequence.Stream})
}
