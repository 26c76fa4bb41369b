package hpa

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

func scaledObject(mutate ...func(*v1alpha1.ScaledObject)) *v1alpha1.ScaledObject {
	so := &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-1"},
		Spec: v1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &v1alpha1.ScaleTarget{Name: "consumer"},
			Triggers: []v1alpha1.ScaleTriggers{{
				Type:     "rabbitmq",
				Metadata: map[string]string{"queueName": "orders", "value": "5", "hostFromEnv": "RABBIT_URL"},
			}},
		},
	}
	for _, m := range mutate {
		m(so)
	}
	return so
}

func averageValue(milli int64) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewMilliQuantity(milli, resource.DecimalSI)}
}

func externalMetric(name string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"scaledobject.keda.sh/name": "orders"}}},
		Target: target,
	}}
}

func TestDesired(t *testing.T) {
	tests := map[string]struct {
		so          *v1alpha1.ScaledObject
		wantName    string
		wantMin     int32
		wantMax     int32
		wantMetrics []autoscalingv2.MetricSpec
		wantBehav   *autoscalingv2.HorizontalPodAutoscalerBehavior
	}{
		"defaults: keda-hpa-<name>, min 1 for min 0, max 100, one external metric per trigger": {
			so:       scaledObject(),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("s0-rabbitmq-orders", averageValue(5000))},
		},
		"horizontalPodAutoscalerConfig.name and min/max carry over": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount = new(int32(3)), new(int32(30))
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "orders-hpa"}}
			}),
			wantName: "orders-hpa", wantMin: 3, wantMax: 30,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("s0-rabbitmq-orders", averageValue(5000))},
		},
		"a Value metricType sets the target's value": {
			so:       scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers[0].MetricType = autoscalingv2.ValueMetricType }),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("s0-rabbitmq-orders", autoscalingv2.MetricTarget{
				Type: autoscalingv2.ValueMetricType, Value: resource.NewMilliQuantity(5000, resource.DecimalSI)})},
		},
		"cpu is a Resource metric, memory with a container a ContainerResource metric": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.MinReplicaCount = new(int32(1))
				so.Spec.Triggers = append(so.Spec.Triggers,
					v1alpha1.ScaleTriggers{Type: "cpu", MetricType: autoscalingv2.UtilizationMetricType, Metadata: map[string]string{"value": "60"}},
					v1alpha1.ScaleTriggers{Type: "memory", MetricType: autoscalingv2.AverageValueMetricType, Metadata: map[string]string{"value": "512Mi", "containerName": "app"}})
			}),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{
				externalMetric("s0-rabbitmq-orders", averageValue(5000)),
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(60))}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
					Name: corev1.ResourceMemory, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("512Mi"))}}},
			},
		},
		"scalingModifiers replace the trigger metrics with composite-metric": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers[0].Name = "queue"
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue * 2", Target: "2.5"}}
			}),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("composite-metric", averageValue(2500))},
		},
		"paused-scale-in disables scale-down and keeps the user's scale-up": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{v1alpha1.PausedScaleInAnnotation: "true"}
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{
					Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(10))}}}}
			}),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("s0-rabbitmq-orders", averageValue(5000))},
			wantBehav: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(10))},
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.DisabledPolicySelect)},
			},
		},
		"paused-scale-out without a behavior disables scale-up only": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{v1alpha1.PausedScaleOutAnnotation: "true"}
			}),
			wantName: "keda-hpa-orders", wantMin: 1, wantMax: 100,
			wantMetrics: []autoscalingv2.MetricSpec{externalMetric("s0-rabbitmq-orders", averageValue(5000))},
			wantBehav:   &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.DisabledPolicySelect)}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Desired(tc.so, trigger.Builtin())
			if err != nil {
				t.Fatalf("Desired: %v", err)
			}
			if got.Name != tc.wantName || got.Namespace != "shop" || *got.Spec.MinReplicas != tc.wantMin || got.Spec.MaxReplicas != tc.wantMax {
				t.Errorf("got %s/%s min %d max %d, want shop/%s min %d max %d", got.Namespace, got.Name, *got.Spec.MinReplicas, got.Spec.MaxReplicas, tc.wantName, tc.wantMin, tc.wantMax)
			}
			if ref := got.Spec.ScaleTargetRef; ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "consumer" {
				t.Errorf("scaleTargetRef = %+v, want apps/v1 Deployment consumer", ref)
			}
			if owner := metav1.GetControllerOf(got); owner == nil || owner.Kind != "ScaledObject" || owner.Name != "orders" || owner.UID != "uid-1" {
				t.Errorf("controller owner = %+v, want the ScaledObject", owner)
			}
			if diff := cmp.Diff(tc.wantMetrics, got.Spec.Metrics); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBehav, got.Spec.Behavior); diff != "" {
				t.Errorf("behavior (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDesiredRejectsBadInput(t *testing.T) {
	tests := map[string]struct {
		so      *v1alpha1.ScaledObject
		wantErr string
	}{
		"unparsable metadata names the field": {
			so:      scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers[0].Metadata["value"] = "five" }),
			wantErr: "spec.triggers[0].metadata.value",
		},
		"an unknown trigger type names the type": {
			so:      scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers[0].Type = "carrier-pigeon" }),
			wantErr: "spec.triggers[0].type",
		},
		"a composite target that is not a number names the field": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "a", Target: "lots"}}
			}),
			wantErr: "spec.advanced.scalingModifiers.target",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Desired(tc.so, trigger.Builtin())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Desired error = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}
