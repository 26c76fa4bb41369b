package crd

import (
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/decider/decide"
)

// Params gives the parameters trigger i can be read from.
type Params func(i int, t v1alpha1.ScaleTriggers) trigger.Params

// Unresolved reads triggers from their metadata alone, taking parameters that come from the
// environment or a TriggerAuthentication as set but unknown, as the admission webhook does.
// Enough for targets and activation thresholds written in the metadata.
func Unresolved(_ int, t v1alpha1.ScaleTriggers) trigger.Params {
	return trigger.Params{Metadata: t.Metadata, MetricType: t.MetricType, Unresolved: true}
}

// ScaledObject converts so into a decide.Spec.
func ScaledObject(so *v1alpha1.ScaledObject, reg *trigger.Registry, params Params) (decide.Spec, error) {
	s := so.Spec
	root := field.NewPath("spec")
	out := decide.Spec{
		Min:             deref(s.MinReplicaCount, v1alpha1.DefaultMinReplicaCount),
		Max:             deref(s.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount),
		Idle:            s.IdleReplicaCount,
		Cooldown:        seconds(deref(s.CooldownPeriod, v1alpha1.DefaultCooldownPeriod)),
		InitialCooldown: seconds(deref(s.InitialCooldownPeriod, 0)),
		Created:         so.CreationTimestamp.Time,
		Fallback:        fallback(s.Fallback),
	}
	var errs field.ErrorList
	out.Triggers, errs = triggers(s.Triggers, reg, params, root.Child("triggers"))
	if a := s.Advanced; a != nil {
		if h := a.HorizontalPodAutoscalerConfig; h != nil {
			out.Behavior = h.Behavior
		}
		if m := a.ScalingModifiers; m != nil && (m.Formula != "" || m.Target != "") {
			var merrs field.ErrorList
			out.Modifiers, merrs = modifiers(m, root.Child("advanced", "scalingModifiers"))
			errs = append(errs, merrs...)
		}
	}
	a, aerrs := v1alpha1.ParseScalingAnnotations(so.Annotations)
	out.Pause = pause(a)
	out.ForceActivation, out.FastScaleUp = a.ForceActivation, a.FastScaleUp
	errs = append(errs, aerrs...)
	return out, errs.ToAggregate()
}

// ScaledJob converts sj into a decide.JobSpec.
func ScaledJob(sj *v1alpha1.ScaledJob, reg *trigger.Registry, params Params) (decide.JobSpec, error) {
	s := sj.Spec
	root := field.NewPath("spec")
	st := s.ScalingStrategy
	out := decide.JobSpec{
		Min:         deref(s.MinReplicaCount, v1alpha1.DefaultMinReplicaCount),
		Max:         deref(s.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount),
		Strategy:    decide.Strategy(st.Strategy),
		Calculation: decide.Calculation(st.MultipleScalersCalculation),
		Deduction:   deref(st.CustomScalingQueueLengthDeduction, 0),
	}
	var errs field.ErrorList
	out.Triggers, errs = triggers(s.Triggers, reg, params, root.Child("triggers"))
	if st.CustomScalingRunningJobPercentage != "" {
		pct, err := strconv.ParseFloat(st.CustomScalingRunningJobPercentage, 64)
		if err != nil {
			errs = append(errs, field.Invalid(root.Child("scalingStrategy", "customScalingRunningJobPercentage"),
				st.CustomScalingRunningJobPercentage, "must be a decimal number"))
		}
		out.RunningJobPercentage = pct
	}
	a, aerrs := v1alpha1.ParseScalingAnnotations(sj.Annotations)
	out.Paused = a.Paused
	errs = append(errs, aerrs...)
	return out, errs.ToAggregate()
}

// PollingInterval is the object's pollingInterval with its default.
func PollingInterval(p *int32) time.Duration {
	return seconds(deref(p, v1alpha1.DefaultPollingInterval))
}

func triggers(ts []v1alpha1.ScaleTriggers, reg *trigger.Registry, params Params, root *field.Path) ([]decide.Trigger, field.ErrorList) {
	var errs field.ErrorList
	out := make([]decide.Trigger, 0, len(ts))
	for i, t := range ts {
		md, perrs := reg.Parse(t.Type, params(i, t), root.Index(i))
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		if _, ok := md.(trigger.ResourceMetric); ok {
			out = append(out, decide.Trigger{Name: t.Name, Metric: trigger.MetricName(i, t.Type, md), Resource: true})
			continue
		}
		out = append(out, decide.Trigger{
			Name:       t.Name,
			Metric:     trigger.MetricName(i, t.Type, md),
			MetricType: t.MetricType,
			Target:     trigger.Target(md),
			Activation: trigger.Activation(md),
		})
	}
	return out, errs
}

func modifiers(m *v1alpha1.ScalingModifiers, p *field.Path) (*decide.Modifiers, field.ErrorList) {
	var errs field.ErrorList
	out := &decide.Modifiers{Formula: m.Formula, MetricType: m.MetricType}
	target, err := strconv.ParseFloat(m.Target, 64)
	if err != nil {
		errs = append(errs, field.Invalid(p.Child("target"), m.Target, "must be a number"))
	}
	out.Target = target
	if m.ActivationTarget != "" {
		activation, err := strconv.ParseFloat(m.ActivationTarget, 64)
		if err != nil {
			errs = append(errs, field.Invalid(p.Child("activationTarget"), m.ActivationTarget, "must be a number"))
		}
		out.ActivationTarget = activation
	}
	return out, errs
}

func fallback(f *v1alpha1.Fallback) *decide.Fallback {
	if f == nil {
		return nil
	}
	return &decide.Fallback{FailureThreshold: f.FailureThreshold, Replicas: f.Replicas, Behavior: decide.FallbackBehavior(f.Behavior)}
}

func pause(a v1alpha1.ScalingAnnotations) decide.Pause {
	return decide.Pause{Replicas: a.PausedReplicas, Paused: a.Paused, ScaleIn: a.PausedScaleIn, ScaleOut: a.PausedScaleOut}
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }
