package metricsapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/metrics-api/provider"
)

// Follow keeps store in step with the decisions on the bus until ctx ends: first each
// ScaledObject's last stored decision, so a restarted metrics-api serves the last values
// instead of nothing, then every new decision as it is published.
func Follow(ctx context.Context, conn *bus.Conn, store *provider.Store, log *slog.Logger) error {
	return followCounted(ctx, conn, store, NewMetrics(nil), time.Now, log)
}

// followCounted is Follow counting into metrics: the values held, and the age of each
// decision taken in (those decided before it started are the replay, not lag). now is the clock.
func followCounted(ctx context.Context, conn *bus.Conn, store *provider.Store, metrics *Metrics, now func() time.Time, log *slog.Logger) error {
	start := now()
	replay := bus.Replay{
		Subjects:       []string{conn.Prefix().All(msg.TypeDecision)},
		LastPerSubject: true,
		Follow:         true,
	}
	err := conn.ReplayAudit(ctx, replay, func(m bus.AuditMessage) error {
		d, err := msg.DecodeAs[msg.Decision](m.Data)
		if err != nil {
			// One bad message must not stop every other object's metrics.
			log.Error("skip undecodable decision", "subject", m.Subject, "error", err)
			return nil
		}
		if d.Object.Kind != msg.ScaledObject {
			return nil
		}
		if d.DecidedAt.After(start) {
			metrics.lag.Observe(now().Sub(d.DecidedAt).Seconds())
		}
		store.Set(provider.Key{Namespace: d.Object.Namespace, Name: d.Object.Name}, values(d))
		metrics.values.Set(float64(store.Len()))
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("follow decisions: %w", err)
	}
	return nil
}

// values are the metrics of d as the store keeps them.
func values(d msg.Decision) []provider.Value {
	interval := time.Duration(d.PollingInterval) * time.Second
	out := make([]provider.Value, len(d.Metrics))
	for i, m := range d.Metrics {
		out[i] = provider.Value{Metric: m.Name, Value: m.Value, Err: m.Error, At: d.DecidedAt, PollingInterval: interval}
	}
	return out
}
