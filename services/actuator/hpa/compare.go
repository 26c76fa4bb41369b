package hpa

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Defaults kube-apiserver v1.37 fills into a behavior that is set (checked against the real
// server in test/actuator): each direction's rules, and each missing field of a given rule.
var (
	defaultScaleUpPolicies = []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
		{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
	}
	defaultScaleDownPolicies = []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
	}
)

// Defaulted returns spec as the API server stores it: a set behavior gets both directions,
// each with a select policy (Max), policies and, scaling up, a 0 s stabilization window. A
// nil behavior stays nil. Comparing the cluster's HPA with Defaulted(desired) tells a real
// difference from the server's defaulting.
func Defaulted(spec autoscalingv2.HorizontalPodAutoscalerSpec) autoscalingv2.HorizontalPodAutoscalerSpec {
	spec = *spec.DeepCopy()
	if spec.MinReplicas == nil {
		spec.MinReplicas = new(int32(1))
	}
	if b := spec.Behavior; b != nil {
		b.ScaleUp = defaultRules(b.ScaleUp, new(int32(0)), defaultScaleUpPolicies)
		b.ScaleDown = defaultRules(b.ScaleDown, nil, defaultScaleDownPolicies)
	}
	return spec
}

func defaultRules(r *autoscalingv2.HPAScalingRules, window *int32, policies []autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = window
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = new(autoscalingv2.MaxChangePolicySelect)
	}
	if r.Policies == nil {
		r.Policies = append([]autoscalingv2.HPAScalingPolicy(nil), policies...)
	}
	return r
}

// Differs reports whether the cluster's HPA must be written to become desired: its spec
// differs after defaulting, a label of desired is missing or different, or desired's
// controller reference is not among its owners.
func Differs(current, desired *autoscalingv2.HorizontalPodAutoscaler) bool {
	if !equality.Semantic.DeepEqual(Defaulted(current.Spec), Defaulted(desired.Spec)) {
		return true
	}
	for k, v := range desired.Labels {
		if got, ok := current.Labels[k]; !ok || got != v {
			return true
		}
	}
	if want := metav1.GetControllerOfNoCopy(desired); want != nil {
		got := metav1.GetControllerOfNoCopy(current)
		return got == nil || got.UID != want.UID
	}
	return false
}

// Merge returns current changed to desired: desired's spec and labels, its controller
// reference in place of any other controller, and current's other metadata (resourceVersion
// for optimistic concurrency, foreign labels, annotations, other owners) kept.
func Merge(current, desired *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := current.DeepCopy()
	out.Spec = *desired.Spec.DeepCopy()
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for k, v := range desired.Labels {
		out.Labels[k] = v
	}
	if want := metav1.GetControllerOfNoCopy(desired); want != nil {
		owners := []metav1.OwnerReference{*want}
		for _, o := range out.OwnerReferences {
			if o.UID != want.UID && (o.Controller == nil || !*o.Controller) {
				owners = append(owners, o)
			}
		}
		out.OwnerReferences = owners
	}
	return out
}
