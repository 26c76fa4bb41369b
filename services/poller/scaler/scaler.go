package scaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"ebb.dev/schemas/trigger"
)

// Scaler reads one trigger's current metric value. Implementations honour ctx's deadline and
// never report a failed read as a zero. Scalers that hold connections also implement io.Closer.
type Scaler interface {
	Read(ctx context.Context) (float64, error)
}

// Deps are what builders may use. Build fills unset fields: time.Now, a private Pool and a
// logger that discards.
type Deps struct {
	Now  func() time.Time
	Pool *Pool
	Log  *slog.Logger
}

// ErrUnknownKind is returned by Build for a trigger type no scaler reads (cpu and memory,
// which the HPA reads itself, or a source not implemented yet).
var ErrUnknownKind = errors.New("no scaler for trigger type")

type builder func(m trigger.Metadata, d Deps) (Scaler, error)

// Registry maps a trigger type to the builder of its scaler.
type Registry struct {
	builders map[string]builder
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{builders: map[string]builder{}}
}

// Register adds the scaler of kind, built from metadata of type M (the struct
// trigger.Registry parses kind into). Registering a kind twice is a programming error and panics.
func Register[M trigger.Metadata](r *Registry, kind string, build func(m M, d Deps) (Scaler, error)) {
	if _, dup := r.builders[kind]; dup {
		panic(fmt.Sprintf("scaler: kind %q registered twice", kind))
	}
	r.builders[kind] = func(m trigger.Metadata, d Deps) (Scaler, error) {
		typed, ok := m.(M)
		if !ok {
			var want M
			return nil, fmt.Errorf("metadata is %T, want %T", m, want)
		}
		return build(typed, d)
	}
}

// Builtin returns a registry with every scaler ebb has.
func Builtin() *Registry {
	r := NewRegistry()
	Register(r, "aws-sqs-queue", newSQS)
	Register(r, "azure-queue", newAzureQueue)
	Register(r, "cron", newCron)
	Register(r, "kafka", newKafka)
	Register(r, "metrics-api", newMetricsAPI)
	Register(r, "mysql", newMySQL)
	Register(r, "nats-jetstream", newNATSJetStream)
	Register(r, "postgresql", newPostgreSQL)
	Register(r, "prometheus", newPrometheus)
	Register(r, "rabbitmq", newRabbitMQ)
	Register(r, "redis", newRedis)
	Register(r, "redis-streams", newRedisStreams)
	return r
}

// Build returns the scaler of a trigger of type kind with parsed metadata m. Building does no
// I/O: connections are opened by the first Read, so a source that is down fails reads, not builds.
func (r *Registry) Build(kind string, m trigger.Metadata, d Deps) (Scaler, error) {
	build, ok := r.builders[kind]
	if !ok {
		return nil, fmt.Errorf("build %s: %w", kind, ErrUnknownKind)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Pool == nil {
		d.Pool = NewPool()
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s, err := build(m, d)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", kind, err)
	}
	return s, nil
}

// Kinds lists the registered trigger types, sorted.
func (r *Registry) Kinds() []string {
	kinds := make([]string, 0, len(r.builders))
	for k := range r.builders {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}
