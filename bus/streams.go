package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/schemas/msg"
)

// AuditStream names the stream of decisions and actions.
func AuditStream(p msg.Prefix) string { return p.String() + "_audit" }

// ReadingsBucket names the KV bucket of the latest reading per trigger.
func ReadingsBucket(p msg.Prefix) string { return p.String() + "_readings" }

// PollersBucket names the KV bucket of live pollers.
func PollersBucket(p msg.Prefix) string { return p.String() + "_pollers" }

// DeciderBucket names the KV bucket of the decider's state.
func DeciderBucket(p msg.Prefix) string { return p.String() + "_decider" }

// kvStream is the stream behind a KV bucket.
func kvStream(bucket string) string { return "KV_" + bucket }

// kvSubjects is the subject space of a KV bucket's keys.
func kvSubjects(bucket string) string { return "$KV." + bucket + ".>" }

// streams is the JetStream layout the bus keeps, derived from the config alone so every
// node of a cluster asks for exactly the same thing.
type streams struct {
	audit    jetstream.StreamConfig
	readings jetstream.StreamConfig
	buckets  []jetstream.KeyValueConfig
}

func layout(c Config) streams {
	replicas := 1
	if c.Mode == Cluster {
		replicas = 3
	}
	p := c.Prefix
	readings := ReadingsBucket(p)
	return streams{
		audit: jetstream.StreamConfig{
			Name:        AuditStream(p),
			Description: "ebb decisions and actions, for ebb tap and audits",
			Subjects:    []string{p.All(msg.TypeDecision), p.All(msg.TypeAction)},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      c.AuditMaxAge,
			MaxBytes:    c.AuditMaxBytes,
			Discard:     jetstream.DiscardOld,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			AllowDirect: true,
		},
		// A KV bucket whose stream also captures the reading subjects, renamed into the
		// bucket's key space: one publish by a poller is both the live message and the last
		// value. The fields mirror what nats.go sets for a KV bucket so its KV client reads it.
		readings: jetstream.StreamConfig{
			Name:              kvStream(readings),
			Description:       "ebb latest reading per trigger",
			Subjects:          []string{p.All(msg.TypeReading), kvSubjects(readings)},
			SubjectTransform:  &jetstream.SubjectTransformConfig{Source: p.All(msg.TypeReading), Destination: kvSubjects(readings)},
			MaxMsgsPerSubject: 1,
			MaxAge:            c.ReadingsMaxAge,
			MaxBytes:          -1,
			MaxMsgSize:        -1,
			MaxMsgs:           -1,
			MaxConsumers:      -1,
			Storage:           jetstream.FileStorage,
			Replicas:          replicas,
			AllowRollup:       true,
			DenyDelete:        true,
			AllowDirect:       true,
			Discard:           jetstream.DiscardNew,
			Duplicates:        2 * time.Minute,
		},
		buckets: []jetstream.KeyValueConfig{
			{
				Bucket:         PollersBucket(p),
				Description:    "ebb live pollers",
				TTL:            c.PollerTTL,
				LimitMarkerTTL: c.PollerTTL,
				Storage:        jetstream.FileStorage,
				Replicas:       replicas,
			},
			{
				Bucket:      DeciderBucket(p),
				Description: "ebb decider state",
				Storage:     jetstream.FileStorage,
				Replicas:    replicas,
			},
		},
	}
}

// provisionOnce creates or updates every stream and bucket. Only one node of a cluster may
// call it at a time: nats-server answers none of several identical concurrent creates.
func provisionOnce(ctx context.Context, js jetstream.JetStream, l streams, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, sc := range []jetstream.StreamConfig{l.audit, l.readings} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("provision stream %s: %w", sc.Name, err)
		}
	}
	for _, kc := range l.buckets {
		if _, err := js.CreateOrUpdateKeyValue(ctx, kc); err != nil {
			return fmt.Errorf("provision bucket %s: %w", kc.Bucket, err)
		}
	}
	return nil
}

// exist reports whether every stream and bucket has been created (by any node). A request
// sent before the cluster has a metadata leader gets no answer, hence the short timeout.
func exist(ctx context.Context, js jetstream.JetStream, l streams) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	names := []string{l.audit.Name, l.readings.Name}
	for _, kc := range l.buckets {
		names = append(names, kvStream(kc.Bucket))
	}
	for _, name := range names {
		if _, err := js.Stream(ctx, name); err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}
