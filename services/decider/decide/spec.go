package decide

import (
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/services/decider/hpa"
)

// CompositeMetric is the one external metric the HPA reads when scalingModifiers are set.
const CompositeMetric = "composite-metric"

// Spec is one ScaledObject as the decision needs it, with the CRD defaults already applied by
// whoever built it: zero is a real value here (a zero Cooldown scales to zero at once).
type Spec struct {
	Min             int32         // minReplicaCount
	Max             int32         // maxReplicaCount
	Idle            *int32        // idleReplicaCount; nil when unset
	Cooldown        time.Duration // cooldownPeriod
	InitialCooldown time.Duration // initialCooldownPeriod, counted from Created
	Created         time.Time     // creationTimestamp; zero counts as long ago
	Triggers        []Trigger
	Modifiers       *Modifiers // advanced.scalingModifiers
	Fallback        *Fallback
	Behavior        *autoscalingv2.HorizontalPodAutoscalerBehavior // advanced.horizontalPodAutoscalerConfig.behavior
	Pause           Pause                                          // from annotations
	ForceActivation bool                                           // autoscaling.keda.sh/force-activation
	// FastScaleUp lets an active object go to the HPA's count at once when it is above the
	// current one. On unless autoscaling.ebb.dev/fast-scale-up is "false" (the builder sets it).
	FastScaleUp bool
}

// Trigger is one entry of spec.triggers.
type Trigger struct {
	Name       string                         // the name formulas use; may be empty without modifiers
	Metric     string                         // external metric name, s<index>-<scaler>-<detail>
	MetricType autoscalingv2.MetricTargetType // AverageValue (also when empty) or Value
	Target     float64
	Activation float64
	Resource   bool // cpu or memory: the HPA reads it from the metrics server; ebb never polls it
}

// Modifiers is advanced.scalingModifiers with its numbers parsed.
type Modifiers struct {
	Formula          string
	Target           float64
	ActivationTarget float64
	MetricType       autoscalingv2.MetricTargetType // AverageValue (also when empty) or Value
}

// FallbackBehavior picks the replica count a failing trigger's fallback value stands for.
type FallbackBehavior string

const (
	FallbackStatic                  FallbackBehavior = "static"
	FallbackCurrentReplicas         FallbackBehavior = "currentReplicas"
	FallbackCurrentReplicasIfHigher FallbackBehavior = "currentReplicasIfHigher"
	FallbackCurrentReplicasIfLower  FallbackBehavior = "currentReplicasIfLower"
)

// Fallback is spec.fallback.
type Fallback struct {
	FailureThreshold int32
	Replicas         int32
	Behavior         FallbackBehavior // static when empty
}

// Pause is what the pause annotations ask for.
type Pause struct {
	Replicas *int32 // autoscaling.keda.sh/paused-replicas: hold this count
	Paused   bool   // autoscaling.keda.sh/paused: hold the current count
	ScaleIn  bool   // autoscaling.keda.sh/paused-scale-in
	ScaleOut bool   // autoscaling.keda.sh/paused-scale-out
}

// Policy is a validated Spec with its formula compiled: build it once per spec change and
// share it between decisions. It is immutable and safe for concurrent use.
type Policy struct {
	spec     Spec
	formula  *vm.Program
	tol      hpa.Tolerances
	metrics  []hpa.MetricSpec // the HPA's external metrics, in the order Result.Metrics serves them
	external int              // triggers ebb reads (not cpu/memory)
	noUp     bool             // the HPA's scale-up is Disabled (behavior or paused-scale-out)
	noDown   bool             // the HPA's scale-down is Disabled (behavior or paused-scale-in)
}

// Compile validates s and compiles its formula. Errors name the ScaledObject field at fault.
func Compile(s Spec) (*Policy, error) {
	if errs := s.validate(); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	p := &Policy{spec: s, tol: hpa.TolerancesFor(s.Behavior)}
	for _, t := range s.Triggers {
		if !t.Resource {
			p.external++
			p.metrics = append(p.metrics, hpa.MetricSpec{Name: t.Metric, Type: metricType(t.MetricType), Target: t.Target})
		}
	}
	if m := s.Modifiers; m != nil {
		program, err := compileFormula(m.Formula, s.Triggers)
		if err != nil {
			return nil, err
		}
		p.formula = program
		p.metrics = []hpa.MetricSpec{{Name: CompositeMetric, Type: metricType(m.MetricType), Target: m.Target}}
	}
	b := p.HPA().Behavior
	p.noUp = b != nil && disabled(b.ScaleUp)
	p.noDown = b != nil && disabled(b.ScaleDown)
	return p, nil
}

// compileFormula type-checks the formula against the trigger names, each a float64 that may
// be nil at run time (a failing trigger), so `a ?? b` compiles and runs.
func compileFormula(formula string, triggers []Trigger) (*vm.Program, error) {
	env := make(map[string]any, len(triggers))
	for _, t := range triggers {
		if !t.Resource {
			env[t.Name] = 0.0
		}
	}
	program, err := expr.Compile(formula, expr.Env(env), expr.AsFloat64())
	if err != nil {
		return nil, field.Invalid(field.NewPath("spec", "advanced", "scalingModifiers", "formula"), formula, err.Error())
	}
	return program, nil
}

func disabled(r *autoscalingv2.HPAScalingRules) bool {
	return r != nil && r.SelectPolicy != nil && *r.SelectPolicy == autoscalingv2.DisabledPolicySelect
}

func metricType(t autoscalingv2.MetricTargetType) autoscalingv2.MetricTargetType {
	if t == "" {
		return autoscalingv2.AverageValueMetricType
	}
	return t
}

// Spec returns the spec the policy was compiled from.
func (p *Policy) Spec() Spec { return p.spec }

// HPA is the HorizontalPodAutoscaler ebb keeps for the ScaledObject: minReplicas max(min, 1),
// the trigger metrics (or the composite one), the user's behavior with paused-scale-in/out
// turned into a Disabled direction, and min = max = paused-replicas (at least 1) while paused.
func (p *Policy) HPA() hpa.Spec {
	s := p.spec
	out := hpa.Spec{MinReplicas: max(s.Min, 1), MaxReplicas: s.Max, Metrics: p.metrics, Behavior: s.Behavior}
	if s.Pause.ScaleIn || s.Pause.ScaleOut {
		b := &autoscalingv2.HorizontalPodAutoscalerBehavior{}
		if s.Behavior != nil {
			b = s.Behavior.DeepCopy()
		}
		disabled := autoscalingv2.DisabledPolicySelect
		if s.Pause.ScaleIn {
			if b.ScaleDown == nil {
				b.ScaleDown = &autoscalingv2.HPAScalingRules{}
			}
			b.ScaleDown.SelectPolicy = &disabled
		}
		if s.Pause.ScaleOut {
			if b.ScaleUp == nil {
				b.ScaleUp = &autoscalingv2.HPAScalingRules{}
			}
			b.ScaleUp.SelectPolicy = &disabled
		}
		out.Behavior = b
	}
	if n := s.Pause.Replicas; n != nil {
		out.MinReplicas, out.MaxReplicas = max(*n, 1), max(*n, 1)
	}
	return out
}

func (s Spec) validate() field.ErrorList {
	root := field.NewPath("spec")
	var errs field.ErrorList
	if s.Min < 0 {
		errs = append(errs, field.Invalid(root.Child("minReplicaCount"), s.Min, "must not be negative"))
	}
	if s.Max < max(s.Min, 1) {
		errs = append(errs, field.Invalid(root.Child("maxReplicaCount"), s.Max, "must be at least max(minReplicaCount, 1)"))
	}
	if s.Idle != nil && (*s.Idle < 0 || *s.Idle >= s.Min) {
		errs = append(errs, field.Invalid(root.Child("idleReplicaCount"), *s.Idle, "must be at least 0 and less than minReplicaCount"))
	}
	if s.Cooldown < 0 {
		errs = append(errs, field.Invalid(root.Child("cooldownPeriod"), s.Cooldown.String(), "must not be negative"))
	}
	if s.InitialCooldown < 0 {
		errs = append(errs, field.Invalid(root.Child("initialCooldownPeriod"), s.InitialCooldown.String(), "must not be negative"))
	}
	errs = append(errs, validateTriggers(s.Triggers, s.Modifiers != nil, root.Child("triggers"))...)
	if m := s.Modifiers; m != nil {
		p := root.Child("advanced", "scalingModifiers")
		if m.Formula == "" {
			errs = append(errs, field.Required(p.Child("formula"), "scalingModifiers need a formula"))
		}
		if hpa.MilliTarget(m.Target) <= 0 {
			errs = append(errs, field.Invalid(p.Child("target"), m.Target, "must be positive"))
		}
		errs = append(errs, validateMetricType(m.MetricType, p.Child("metricType"))...)
	}
	if f := s.Fallback; f != nil {
		p := root.Child("fallback")
		if f.FailureThreshold < 0 {
			errs = append(errs, field.Invalid(p.Child("failureThreshold"), f.FailureThreshold, "must not be negative"))
		}
		if f.Replicas < 0 {
			errs = append(errs, field.Invalid(p.Child("replicas"), f.Replicas, "must not be negative"))
		}
		switch f.Behavior {
		case "", FallbackStatic, FallbackCurrentReplicas, FallbackCurrentReplicasIfHigher, FallbackCurrentReplicasIfLower:
		default:
			errs = append(errs, field.NotSupported(p.Child("behavior"), f.Behavior, []FallbackBehavior{
				FallbackStatic, FallbackCurrentReplicas, FallbackCurrentReplicasIfHigher, FallbackCurrentReplicasIfLower}))
		}
	}
	if n := s.Pause.Replicas; n != nil && *n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations", "autoscaling.keda.sh/paused-replicas"), *n, "must not be negative"))
	}
	return errs
}

func validateTriggers(triggers []Trigger, modifiers bool, root *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(triggers) == 0 {
		errs = append(errs, field.Required(root, "at least one trigger"))
	}
	names, metrics := map[string]bool{}, map[string]bool{}
	for i, t := range triggers {
		p := root.Index(i)
		if t.Name != "" && names[t.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), t.Name))
		}
		names[t.Name] = true
		if t.Resource {
			continue
		}
		if modifiers && t.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "scalingModifiers refer to triggers by name"))
		}
		if t.Metric == "" {
			errs = append(errs, field.Required(p.Child("metricName"), "every polled trigger has an external metric name"))
		} else if metrics[t.Metric] {
			errs = append(errs, field.Duplicate(p.Child("metricName"), t.Metric))
		}
		metrics[t.Metric] = true
		if hpa.MilliTarget(t.Target) <= 0 {
			errs = append(errs, field.Invalid(p.Child("metadata"), t.Target, "the target must be positive"))
		}
		errs = append(errs, validateMetricType(t.MetricType, p.Child("metricType"))...)
	}
	return errs
}

func validateMetricType(t autoscalingv2.MetricTargetType, p *field.Path) field.ErrorList {
	switch t {
	case "", autoscalingv2.AverageValueMetricType, autoscalingv2.ValueMetricType:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, t, []autoscalingv2.MetricTargetType{
		autoscalingv2.AverageValueMetricType, autoscalingv2.ValueMetricType})}
}
