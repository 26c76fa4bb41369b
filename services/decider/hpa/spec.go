package hpa

import (
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Defaults of kube-controller-manager's --horizontal-pod-autoscaler-* flags.
const (
	SyncPeriod                    = 15 * time.Second
	DefaultTolerance              = 0.1
	DefaultDownscaleStabilization = 5 * time.Minute
)

// API server validation limits for behavior (autoscaling/v2).
const (
	maxPeriodSeconds              = 1800
	maxStabilizationWindowSeconds = 3600
)

// MetricSpec is one External metric of an HPA: its name and its Value or AverageValue target.
type MetricSpec struct {
	Name   string
	Type   autoscalingv2.MetricTargetType
	Target float64
}

// Spec is the part of an autoscaling/v2 HorizontalPodAutoscaler spec the controller acts on.
// Behavior is taken as written by the user; New applies the API server's defaults to a copy.
type Spec struct {
	MinReplicas int32
	MaxReplicas int32
	Metrics     []MetricSpec
	Behavior    *autoscalingv2.HorizontalPodAutoscalerBehavior
}

// Validate reports what the API server would reject, plus what the model does not cover
// (minReplicas 0, which needs the HPAScaleToZero path ebb never uses).
func (s Spec) Validate() error {
	root := field.NewPath("spec")
	var errs field.ErrorList
	if s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(root.Child("minReplicas"), s.MinReplicas, "must be at least 1"))
	}
	if s.MaxReplicas < s.MinReplicas {
		errs = append(errs, field.Invalid(root.Child("maxReplicas"), s.MaxReplicas, "must be at least minReplicas"))
	}
	if len(s.Metrics) == 0 {
		errs = append(errs, field.Required(root.Child("metrics"), "at least one metric"))
	}
	for i, m := range s.Metrics {
		p := root.Child("metrics").Index(i).Child("external")
		if m.Type != autoscalingv2.AverageValueMetricType && m.Type != autoscalingv2.ValueMetricType {
			errs = append(errs, field.NotSupported(p.Child("target", "type"), m.Type,
				[]autoscalingv2.MetricTargetType{autoscalingv2.AverageValueMetricType, autoscalingv2.ValueMetricType}))
		}
		if MilliTarget(m.Target) <= 0 {
			errs = append(errs, field.Invalid(p.Child("target"), m.Target, "must be positive"))
		}
	}
	if b := s.Behavior; b != nil {
		errs = append(errs, validateRules(b.ScaleUp, root.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateRules(b.ScaleDown, root.Child("behavior", "scaleDown"))...)
	}
	return errs.ToAggregate()
}

func validateRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > maxStabilizationWindowSeconds) {
		errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w,
			fmt.Sprintf("must be between 0 and %d", maxStabilizationWindowSeconds)))
	}
	if sp := r.SelectPolicy; sp != nil {
		switch *sp {
		case autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect:
		default:
			errs = append(errs, field.NotSupported(p.Child("selectPolicy"), *sp, []autoscalingv2.ScalingPolicySelect{
				autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect}))
		}
	}
	// A nil list means "use the defaults"; an empty one survives defaulting and is rejected.
	if r.Policies != nil && len(r.Policies) == 0 {
		errs = append(errs, field.Required(p.Child("policies"), "must specify at least one policy"))
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		if pol.Type != autoscalingv2.PodsScalingPolicy && pol.Type != autoscalingv2.PercentScalingPolicy {
			errs = append(errs, field.NotSupported(pp.Child("type"), pol.Type,
				[]autoscalingv2.HPAScalingPolicyType{autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy}))
		}
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		if pol.PeriodSeconds <= 0 || pol.PeriodSeconds > maxPeriodSeconds {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds,
				fmt.Sprintf("must be between 1 and %d", maxPeriodSeconds)))
		}
	}
	if r.Tolerance != nil && r.Tolerance.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("tolerance"), r.Tolerance.String(), "must be non-negative"))
	}
	return errs
}

// defaulted returns a copy of b with the API server's defaults filled in (scale up: no
// stabilization, 4 Pods or 100 % per 15 s, Max; scale down: 100 % per 15 s, Max) and the
// controller's downscale stabilization where scaleDown leaves it unset.
func defaulted(b *autoscalingv2.HorizontalPodAutoscalerBehavior) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	if b == nil {
		return nil
	}
	upWindow := int32(0)
	downWindow := int32(DefaultDownscaleStabilization / time.Second)
	up := autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &upWindow,
		SelectPolicy:               ptr(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	down := autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &downWindow,
		SelectPolicy:               ptr(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   overlay(b.ScaleUp, up),
		ScaleDown: overlay(b.ScaleDown, down),
	}
}

// overlay fills the unset fields of r from d, field by field, as the API server does.
func overlay(r *autoscalingv2.HPAScalingRules, d autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return &d
	}
	r = r.DeepCopy()
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = d.StabilizationWindowSeconds
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = d.SelectPolicy
	}
	if r.Policies == nil {
		r.Policies = d.Policies
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// Tolerances are the usage-ratio bands within which the HPA keeps the current count.
type Tolerances struct {
	Down float64
	Up   float64
}

// TolerancesFor returns the controller's 0.1 each way, replaced per direction by
// behavior.scaleDown.tolerance and behavior.scaleUp.tolerance when set.
func TolerancesFor(b *autoscalingv2.HorizontalPodAutoscalerBehavior) Tolerances {
	t := Tolerances{Down: DefaultTolerance, Up: DefaultTolerance}
	if b == nil {
		return t
	}
	if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
		t.Down = b.ScaleDown.Tolerance.AsApproximateFloat64()
	}
	if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
		t.Up = b.ScaleUp.Tolerance.AsApproximateFloat64()
	}
	return t
}

// Within reports whether ratio is inside the band; both bounds are inclusive.
func (t Tolerances) Within(ratio float64) bool {
	return (1.0-t.Down) <= ratio && ratio <= (1.0+t.Up)
}

// MilliValue is a served metric value in the milli-units the HPA reads: ebb's metrics API
// serves resource.NewMilliQuantity(round(v × 1000)).
func MilliValue(v float64) int64 { return toInt64(math.Round(v * 1000)) }

// MilliTarget is an HPA target in the milli-units the HPA reads: the actuator builds it, as
// KEDA does, with resource.NewMilliQuantity(int64(v × 1000)), which truncates.
func MilliTarget(v float64) int64 { return toInt64(v * 1000) }

// toInt64 converts like int64(f), saturating where Go's conversion is undefined.
func toInt64(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
