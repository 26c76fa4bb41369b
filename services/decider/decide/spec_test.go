package decide

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"ebb.dev/services/decider/hpa"
)

func TestPolicyHPA(t *testing.T) {
	disabled := autoscalingv2.DisabledPolicySelect
	window := int32(60)
	userBehavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window}}
	three := int32(3)
	zero := int32(0)
	queue := hpa.MetricSpec{Name: "s0-rabbitmq-queue", Type: autoscalingv2.AverageValueMetricType, Target: 5}
	tests := map[string]struct {
		spec Spec
		want hpa.Spec
	}{
		"minReplicas is at least 1 and the triggers are its metrics": {
			spec: object(triggers(trigger("queue", 5, 0), Trigger{Name: "cpu", Resource: true})),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 100, Metrics: []hpa.MetricSpec{queue}}},
		"minReplicaCount above 1 is the HPA's min": {
			spec: object(minMax(3, 9)),
			want: hpa.Spec{MinReplicas: 3, MaxReplicas: 9, Metrics: []hpa.MetricSpec{queue}}},
		"scalingModifiers replace the trigger metrics with the composite": {
			spec: object(modifiers("queue * 2", 7, 0), func(s *Spec) { s.Modifiers.MetricType = autoscalingv2.ValueMetricType }),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 100, Metrics: []hpa.MetricSpec{{Name: CompositeMetric, Type: autoscalingv2.ValueMetricType, Target: 7}}}},
		"the user's behavior passes through unchanged": {
			spec: object(func(s *Spec) { s.Behavior = userBehavior }),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 100, Metrics: []hpa.MetricSpec{queue}, Behavior: userBehavior}},
		"paused-scale-in disables the HPA's scale-down, keeping the rest of the behavior": {
			spec: object(func(s *Spec) { s.Behavior = userBehavior }, pause(Pause{ScaleIn: true})),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 100, Metrics: []hpa.MetricSpec{queue}, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window},
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}}}},
		"paused-scale-out disables the HPA's scale-up": {
			spec: object(pause(Pause{ScaleOut: true})),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 100, Metrics: []hpa.MetricSpec{queue}, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}}}},
		"paused-replicas pins min and max": {
			spec: object(pause(Pause{Replicas: &three})),
			want: hpa.Spec{MinReplicas: 3, MaxReplicas: 3, Metrics: []hpa.MetricSpec{queue}}},
		"paused-replicas 0 pins the HPA at 1, the least it accepts": {
			spec: object(pause(Pause{Replicas: &zero})),
			want: hpa.Spec{MinReplicas: 1, MaxReplicas: 1, Metrics: []hpa.MetricSpec{queue}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, compile(t, tc.spec).HPA()); diff != "" {
				t.Errorf("HPA (-want +got):\n%s", diff)
			}
		})
	}
	if userBehavior.ScaleDown != nil {
		t.Errorf("the user's behavior was modified: %+v", userBehavior)
	}
}
