package trigger

import (
	"reflect"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"ebb.dev/schemas/keda/v1alpha1"
)

// ResourceMetric is implemented by cpu and memory: the HPA reads them from the metrics server,
// so they have no external metric and are never polled.
type ResourceMetric interface {
	Metadata
	ResourceName() corev1.ResourceName
	// TargetContainer is the one container measured; empty means the whole pod.
	TargetContainer() string
}

// targeter is implemented by scalers whose target depends on their mode (redis-streams).
type targeter interface {
	target() float64
}

// Target is the HPA target value of m: its target field, or 1 for scalers without one (cron,
// whose reading is already a replica count).
func Target(m Metadata) float64 {
	if t, ok := m.(targeter); ok {
		return t.target()
	}
	if v, ok := roleValue(m, roleTarget); ok {
		return number(v)
	}
	return 1
}

// Activation is the threshold m's reading must exceed for the trigger to be active (0 when
// the scaler has none).
func Activation(m Metadata) float64 {
	if v, ok := roleValue(m, roleActivation); ok {
		return number(v)
	}
	return 0
}

// metricKinder is implemented by scalers whose KEDA metric names do not start with their
// trigger type (metrics-api names its metrics s<i>-metric-api-<detail>).
type metricKinder interface {
	metricKind() string
}

// MetricName is the metric name of trigger index of type kind: s<index>-<kind>-<detail> for
// external metrics, the resource name (cpu, memory) for resource metrics.
func MetricName(index int, kind string, m Metadata) string {
	if r, ok := m.(ResourceMetric); ok {
		return string(r.ResourceName())
	}
	if k, ok := m.(metricKinder); ok {
		kind = k.metricKind()
	}
	return v1alpha1.MetricName(index, kind, m.MetricDetail())
}

// HPATarget is the target of m's metric in an HPA for the trigger's metricType (empty means
// AverageValue). External values are in milli-units, as KEDA sets them.
func HPATarget(metricType autoscalingv2.MetricTargetType, m Metadata) autoscalingv2.MetricTarget {
	if metricType == "" {
		metricType = autoscalingv2.AverageValueMetricType
	}
	t := autoscalingv2.MetricTarget{Type: metricType}
	if _, ok := m.(ResourceMetric); ok {
		v, _ := roleValue(m, roleTarget)
		q := v.Interface().(resource.Quantity)
		if metricType == autoscalingv2.UtilizationMetricType {
			u := int32(q.Value())
			t.AverageUtilization = &u
		} else {
			t.AverageValue = &q
		}
		return t
	}
	q := resource.NewMilliQuantity(int64(Target(m)*1000), resource.DecimalSI)
	if metricType == autoscalingv2.ValueMetricType {
		t.Value = q
	} else {
		t.AverageValue = q
	}
	return t
}

// roleValue finds the field of m tagged with r.
func roleValue(m Metadata, r role) (reflect.Value, bool) {
	word := "target"
	if r == roleActivation {
		word = "activation"
	}
	v := reflect.ValueOf(m)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for _, sf := range reflect.VisibleFields(v.Type()) {
		tag, ok := sf.Tag.Lookup("trigger")
		if !ok || !strings.Contains(tag, word) {
			continue // most fields: skip the full tag parse
		}
		if f, err := parseTag(tag); err == nil && f.role == r {
			return v.FieldByIndex(sf.Index), true
		}
	}
	return reflect.Value{}, false
}
