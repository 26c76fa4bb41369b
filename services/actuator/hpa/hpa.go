package hpa

import (
	"fmt"
	"strconv"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// ManagedByLabel marks the HPAs ebb creates.
const ManagedByLabel = "app.kubernetes.io/managed-by"

// Desired returns the HPA for so. Trigger metadata is parsed without credentials (only names
// and targets matter here, and the actuator never reads Secrets); an unparsable trigger is an
// error naming its field.
func Desired(so *v1alpha1.ScaledObject, triggers *trigger.Registry) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	metrics, err := Metrics(so, triggers)
	if err != nil {
		return nil, err
	}
	spec := so.Spec
	apiVersion, kind := v1alpha1.DefaultScaleTargetAPI, v1alpha1.DefaultScaleTargetKind
	if t := spec.ScaleTargetRef; t != nil {
		apiVersion, kind = or(t.APIVersion, apiVersion), or(t.Kind, kind)
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      v1alpha1.HPAName(so),
			Namespace: so.Namespace,
			Labels: map[string]string{
				ManagedByLabel:                 "ebb",
				v1alpha1.ScaledObjectNameLabel: so.Name,
			},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(so, v1alpha1.GroupVersion().WithKind(v1alpha1.KindScaledObject))},
		},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: apiVersion, Kind: kind, Name: targetName(spec)},
			MinReplicas:    new(max(deref(spec.MinReplicaCount, v1alpha1.DefaultMinReplicaCount), 1)),
			MaxReplicas:    deref(spec.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount),
			Metrics:        metrics,
			Behavior:       behavior(so),
		},
	}, nil
}

// Metrics are the HPA metrics of so: composite-metric alone with scalingModifiers, otherwise
// one per trigger — external, or resource/container-resource for cpu and memory.
func Metrics(so *v1alpha1.ScaledObject, triggers *trigger.Registry) ([]autoscalingv2.MetricSpec, error) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.ScaledObjectNameLabel: so.Name}}
	if mod := modifiers(so); mod != nil {
		target, err := strconv.ParseFloat(mod.Target, 64)
		if err != nil || target <= 0 {
			return nil, fmt.Errorf("spec.advanced.scalingModifiers.target: %q is not a positive number", mod.Target)
		}
		return []autoscalingv2.MetricSpec{external(v1alpha1.CompositeMetricName, selector, milliTarget(mod.MetricType, target))}, nil
	}
	metrics := make([]autoscalingv2.MetricSpec, 0, len(so.Spec.Triggers))
	for i, t := range so.Spec.Triggers {
		path := field.NewPath("spec", "triggers").Index(i)
		params := trigger.Params{Metadata: t.Metadata, MetricType: t.MetricType, Unresolved: true}
		m, errs := triggers.Parse(t.Type, params, path)
		if len(errs) > 0 {
			return nil, errs.ToAggregate()
		}
		if r, ok := m.(trigger.ResourceMetric); ok {
			metrics = append(metrics, resourceMetric(r, trigger.HPATarget(t.MetricType, m)))
			continue
		}
		metrics = append(metrics, external(trigger.MetricName(i, t.Type, m), selector, trigger.HPATarget(t.MetricType, m)))
	}
	return metrics, nil
}

func external(name string, selector *metav1.LabelSelector, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name, Selector: selector},
			Target: target,
		},
	}
}

func resourceMetric(r trigger.ResourceMetric, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	if c := r.TargetContainer(); c != "" {
		return autoscalingv2.MetricSpec{
			Type:              autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: r.ResourceName(), Container: c, Target: target},
		}
	}
	return autoscalingv2.MetricSpec{
		Type:     autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: r.ResourceName(), Target: target},
	}
}

// milliTarget is an external target in milli-units, as trigger.HPATarget builds them.
func milliTarget(metricType autoscalingv2.MetricTargetType, v float64) autoscalingv2.MetricTarget {
	q := resource.NewMilliQuantity(int64(v*1000), resource.DecimalSI)
	if metricType == autoscalingv2.ValueMetricType {
		return autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q}
	}
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q}
}

// behavior copies the user's behavior and disables the direction a paused-scale-in/out
// annotation blocks.
func behavior(so *v1alpha1.ScaledObject) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	var b *autoscalingv2.HorizontalPodAutoscalerBehavior
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Behavior != nil {
		b = a.HorizontalPodAutoscalerConfig.Behavior.DeepCopy()
	}
	scaleIn := so.Annotations[v1alpha1.PausedScaleInAnnotation] == "true"
	scaleOut := so.Annotations[v1alpha1.PausedScaleOutAnnotation] == "true"
	if !scaleIn && !scaleOut {
		return b
	}
	if b == nil {
		b = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	}
	if scaleIn {
		b.ScaleDown = disabled(b.ScaleDown)
	}
	if scaleOut {
		b.ScaleUp = disabled(b.ScaleUp)
	}
	return b
}

func disabled(r *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	r.SelectPolicy = new(autoscalingv2.DisabledPolicySelect)
	return r
}

func modifiers(so *v1alpha1.ScaledObject) *v1alpha1.ScalingModifiers {
	if a := so.Spec.Advanced; a != nil && a.ScalingModifiers != nil && a.ScalingModifiers.Formula != "" {
		return a.ScalingModifiers
	}
	return nil
}

func targetName(spec v1alpha1.ScaledObjectSpec) string {
	if spec.ScaleTargetRef == nil {
		return ""
	}
	return spec.ScaleTargetRef.Name
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
