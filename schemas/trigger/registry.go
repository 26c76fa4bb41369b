package trigger

import (
	"fmt"
	"reflect"
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Metadata is a parsed trigger: one of this package's metadata structs, as a value.
type Metadata interface {
	// MetricDetail is the part of the external metric name after the scaler kind
	// (s<index>-<kind>-<detail>); empty leaves it out.
	MetricDetail() string
}

// Registry maps a trigger type to its metadata struct. The webhook and the poller parse
// through the same registry, so they accept exactly the same triggers.
type Registry struct {
	kinds map[string]*structSpec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]*structSpec{}}
}

// Register adds kind, parsed into M (a struct type). It fails on a repeated kind or a bad tag.
func Register[M Metadata](r *Registry, kind string) error {
	if _, dup := r.kinds[kind]; dup {
		return fmt.Errorf("trigger kind %q registered twice", kind)
	}
	spec, err := compile(reflect.TypeFor[M]())
	if err != nil {
		return fmt.Errorf("register %s: %w", kind, err)
	}
	r.kinds[kind] = spec
	return nil
}

// Kinds lists the registered trigger types, sorted.
func (r *Registry) Kinds() []string {
	kinds := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// Has reports whether kind is registered.
func (r *Registry) Has(kind string) bool {
	_, ok := r.kinds[kind]
	return ok
}

// Parse reads the parameters of a trigger of type kind from p. path is the trigger's path
// (e.g. spec.triggers[0]); errors point below it (spec.triggers[0].metadata.queueName) and
// never contain a secret. The Metadata is the struct value, e.g. trigger.RabbitMQ.
func (r *Registry) Parse(kind string, p Params, path *field.Path) (Metadata, field.ErrorList) {
	spec, ok := r.kinds[kind]
	if !ok {
		return nil, field.ErrorList{field.NotSupported(path.Child("type"), kind, r.Kinds())}
	}
	v, errs := spec.parse(p, path)
	if len(errs) > 0 {
		return nil, errs
	}
	m := v.Interface().(Metadata)
	if _, resource := m.(ResourceMetric); !resource && p.MetricType == autoscalingv2.UtilizationMetricType {
		return nil, field.ErrorList{field.NotSupported(path.Child("metricType"), string(p.MetricType),
			[]string{string(autoscalingv2.AverageValueMetricType), string(autoscalingv2.ValueMetricType)})}
	}
	return m, nil
}

// Builtin returns a registry with every scaler ebb supports. Each scaler issue adds its line.
func Builtin() *Registry {
	r := NewRegistry()
	for _, err := range []error{
		Register[AWSSQSQueue](r, "aws-sqs-queue"),
		Register[AzureQueue](r, "azure-queue"),
		Register[CPU](r, "cpu"),
		Register[Cron](r, "cron"),
		Register[Kafka](r, "kafka"),
		Register[Memory](r, "memory"),
		Register[MetricsAPI](r, "metrics-api"),
		Register[MySQL](r, "mysql"),
		Register[NATSJetStream](r, "nats-jetstream"),
		Register[PostgreSQL](r, "postgresql"),
		Register[Prometheus](r, "prometheus"),
		Register[RabbitMQ](r, "rabbitmq"),
		Register[Redis](r, "redis"),
		Register[RedisStreams](r, "redis-streams"),
	} {
		if err != nil {
			panic(err) // a tag error in this package; TestBuiltin catches it before release
		}
	}
	return r
}
