package hpa

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/trigger"
)

func TestDefaulted(t *testing.T) {
	disabled := autoscalingv2.DisabledPolicySelect
	onePod := []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 10}}
	defaultUp := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(0)), SelectPolicy: new(autoscalingv2.MaxChangePolicySelect), Policies: defaultScaleUpPolicies}
	defaultDown := &autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.MaxChangePolicySelect), Policies: defaultScaleDownPolicies}
	tests := map[string]struct {
		in, want *autoscalingv2.HorizontalPodAutoscalerBehavior
	}{
		"no behavior stays none": {},
		"a disabled scale-down gets policies, and scale-up all its defaults": {
			in: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}},
			want: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: defaultUp,
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled, Policies: defaultScaleDownPolicies}},
		},
		"given policies are kept, missing fields filled": {
			in: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Policies: onePod}},
			want: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: defaultDown,
				ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(0)), SelectPolicy: new(autoscalingv2.MaxChangePolicySelect), Policies: onePod}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Defaulted(autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: new(int32(2)), Behavior: tc.in})
			if diff := cmp.Diff(tc.want, got.Behavior); diff != "" {
				t.Errorf("Defaulted behavior (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffers(t *testing.T) {
	desired, err := Desired(scaledObject(), trigger.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		current func(*autoscalingv2.HorizontalPodAutoscaler)
		want    bool
	}{
		"identical":                   {current: func(*autoscalingv2.HorizontalPodAutoscaler) {}},
		"only server defaults differ": {current: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec = Defaulted(h.Spec) }},
		"foreign labels and owners count for nothing": {current: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Labels["team"] = "shop"
			h.OwnerReferences = append(h.OwnerReferences, metav1.OwnerReference{Name: "other", UID: "uid-9"})
		}},
		"max replicas changed":   {current: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 7 }, want: true},
		"a metric target edited": {current: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics[0].External.Target = averageValue(1000) }, want: true},
		"our label removed":      {current: func(h *autoscalingv2.HorizontalPodAutoscaler) { delete(h.Labels, "scaledobject.keda.sh/name") }, want: true},
		"owned by another controller": {current: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.OwnerReferences = []metav1.OwnerReference{{Name: "other", UID: "uid-9", Controller: new(true)}}
		}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			current := desired.DeepCopy()
			tc.current(current)
			if got := Differs(current, desired); got != tc.want {
				t.Errorf("Differs = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	desired, err := Desired(scaledObject(), trigger.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	current := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{
		Name: desired.Name, Namespace: desired.Namespace, ResourceVersion: "42",
		Labels:          map[string]string{"team": "shop"},
		Annotations:     map[string]string{"scaledobject.keda.sh/transfer-hpa-ownership": "true"},
		OwnerReferences: []metav1.OwnerReference{{Name: "old", UID: "uid-old", Controller: new(true)}, {Name: "keep", UID: "uid-keep"}},
	}}
	got := Merge(current, desired)
	want := current.DeepCopy()
	want.Spec = desired.Spec
	want.Labels = map[string]string{"team": "shop", ManagedByLabel: "ebb", "scaledobject.keda.sh/name": "orders"}
	want.OwnerReferences = []metav1.OwnerReference{desired.OwnerReferences[0], {Name: "keep", UID: "uid-keep"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if Differs(got, desired) {
		t.Error("Differs(Merge(current, desired), desired) = true, want false")
	}
}
