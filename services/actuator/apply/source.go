package apply

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// Source delivers decisions to handle until ctx ends.
type Source interface {
	Decisions(ctx context.Context, handle func(msg.Decision)) error
}

// BusSource reads decisions from the bus's audit stream: first the last decision kept for
// every object, so a new leader acts at once instead of a polling interval later, then each
// new one in order. An ordered consumer resumes where it stopped after a reconnect, so no
// decision is lost to a bus hiccup.
type BusSource struct {
	Conn   *bus.Conn
	Logger *slog.Logger
}

var _ Source = BusSource{}

// Decisions consumes until ctx ends.
func (s BusSource) Decisions(ctx context.Context, handle func(msg.Decision)) error {
	p := s.Conn.Prefix()
	stream := bus.AuditStream(p)
	cons, err := s.Conn.JetStream().OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{p.All(msg.TypeDecision)},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return fmt.Errorf("consume decisions from %s: %w", stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		decoded, err := msg.Decode(m.Data())
		if err != nil {
			s.Logger.Warn("undecodable decision", "subject", m.Subject(), "error", err)
			return
		}
		if d, ok := decoded.(msg.Decision); ok {
			handle(d)
		}
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.Logger.Warn("decision consumer", "stream", stream, "error", err)
	}))
	if err != nil {
		return fmt.Errorf("consume decisions from %s: %w", stream, err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}
