package decide

import (
	"math"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is scalingStrategy.strategy of a ScaledJob.
type Strategy string

const (
	StrategyDefault  Strategy = "default"
	StrategyCustom   Strategy = "custom"
	StrategyAccurate Strategy = "accurate"
	StrategyEager    Strategy = "eager"
)

// Calculation is scalingStrategy.multipleScalersCalculation.
type Calculation string

const (
	CalculationMax Calculation = "max"
	CalculationMin Calculation = "min"
	CalculationAvg Calculation = "avg"
	CalculationSum Calculation = "sum"
)

// JobSpec is one ScaledJob as the decision needs it, CRD defaults applied.
type JobSpec struct {
	Min         int32
	Max         int32
	Triggers    []Trigger   // Resource triggers are not allowed
	Strategy    Strategy    // default when empty
	Calculation Calculation // max when empty
	// Custom strategy: customScalingQueueLengthDeduction and customScalingRunningJobPercentage.
	Deduction            int32
	RunningJobPercentage float64
	Paused               bool // autoscaling.keda.sh/paused
}

// JobPolicy is a validated JobSpec. It is immutable and safe for concurrent use.
type JobPolicy struct{ spec JobSpec }

// CompileJob validates s. Errors name the ScaledJob field at fault.
func CompileJob(s JobSpec) (*JobPolicy, error) {
	root := field.NewPath("spec")
	var errs field.ErrorList
	if s.Min < 0 {
		errs = append(errs, field.Invalid(root.Child("minReplicaCount"), s.Min, "must not be negative"))
	}
	if s.Max < 0 {
		errs = append(errs, field.Invalid(root.Child("maxReplicaCount"), s.Max, "must not be negative"))
	}
	for i, t := range s.Triggers {
		if t.Resource {
			errs = append(errs, field.Forbidden(root.Child("triggers").Index(i).Child("type"), "cpu and memory cannot drive Jobs"))
		}
	}
	errs = append(errs, validateTriggers(s.Triggers, false, root.Child("triggers"))...)
	switch s.Strategy {
	case "", StrategyDefault, StrategyCustom, StrategyAccurate, StrategyEager:
	default:
		errs = append(errs, field.NotSupported(root.Child("scalingStrategy", "strategy"), s.Strategy,
			[]Strategy{StrategyDefault, StrategyCustom, StrategyAccurate, StrategyEager}))
	}
	switch s.Calculation {
	case "", CalculationMax, CalculationMin, CalculationAvg, CalculationSum:
	default:
		errs = append(errs, field.NotSupported(root.Child("scalingStrategy", "multipleScalersCalculation"), s.Calculation,
			[]Calculation{CalculationMax, CalculationMin, CalculationAvg, CalculationSum}))
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return &JobPolicy{spec: s}, nil
}

// Spec returns the spec the policy was compiled from.
func (p *JobPolicy) Spec() JobSpec { return p.spec }

// JobInput is everything one ScaledJob decision depends on.
type JobInput struct {
	Now        time.Time
	Policy     *JobPolicy
	Running    int32 // the ScaledJob's Jobs not yet Complete or Failed
	Pending    int32 // running Jobs whose pod is not yet Running or Succeeded
	LastActive time.Time
	Readings   []Reading // one per trigger
}

// JobResult is one ScaledJob decision and the arithmetic behind it.
type JobResult struct {
	Create       int32 // Jobs to create now
	Active       bool
	Reason       Reason // jobs, min or paused
	LastActive   time.Time
	QueueLength  float64 // the combined queue length of the active triggers
	ScaleTo      int64   // ceil(queue length); the cap MR with the eager strategy
	MaxScale     int64   // ceil(combined queue length / target), at most MR
	EffectiveMax int64   // what the strategy allows given running and pending Jobs
	Triggers     []TriggerState
}

// Jobs decides how many Jobs a ScaledJob creates this interval.
func Jobs(in JobInput) JobResult {
	s := in.Policy.spec
	mr := int64(s.Max - s.Min)
	if s.Min > s.Max {
		mr = int64(s.Max)
	}
	res := JobResult{LastActive: in.LastActive, Reason: ReasonJobs, Triggers: make([]TriggerState, len(s.Triggers))}
	ql, maxValue, active := combine(s, in.Readings, float64(mr), res.Triggers)
	res.Active = active || s.Min > 0
	res.QueueLength = ql
	res.ScaleTo = int64(math.Ceil(ql))
	res.MaxScale = int64(math.Ceil(min(maxValue, float64(mr))))
	if s.Paused {
		res.Reason = ReasonPaused
		return res
	}
	if !res.Active {
		return res
	}
	res.LastActive = lastActive(in.Readings, in.LastActive, in.Now)
	running, pending := int64(in.Running), int64(in.Pending)
	if running < int64(s.Min) {
		res.Create, res.Reason = int32(int64(s.Min)-running), ReasonMin
		return res
	}
	r := running - int64(s.Min)
	switch s.Strategy {
	case StrategyCustom:
		res.EffectiveMax = min(res.MaxScale-int64(s.Deduction)-int64(float64(r)*s.RunningJobPercentage), mr)
	case StrategyAccurate:
		res.EffectiveMax = res.MaxScale - pending
		if res.MaxScale+r-pending > mr {
			res.EffectiveMax = mr - r
		}
	case StrategyEager:
		res.EffectiveMax = min(mr-r-pending, res.MaxScale)
		res.ScaleTo = mr
	default:
		res.EffectiveMax = res.MaxScale - r
	}
	res.Create = int32(min(res.ScaleTo, max(res.EffectiveMax, 0), math.MaxInt32))
	return res
}

// combine folds the active triggers' queue lengths and max values by multipleScalersCalculation:
// max and min pick one trigger by its queue length, avg and sum fold both numbers.
func combine(s JobSpec, readings []Reading, mr float64, states []TriggerState) (ql, maxValue float64, active bool) {
	var n int
	for i, t := range s.Triggers {
		r := reading(readings, i)
		st := &states[i]
		st.Health = r.health()
		if r.Failed() {
			continue
		}
		st.Active = r.Value > t.Activation
		if !st.Active {
			continue
		}
		v, mv := r.Value, min(r.Value/t.Target, mr)
		switch s.Calculation {
		case CalculationMin:
			if ql == 0 || v < ql {
				ql, maxValue = v, mv
			}
		case CalculationAvg, CalculationSum:
			ql, maxValue = ql+v, maxValue+mv
		default:
			if v > ql {
				ql, maxValue = v, mv
			}
		}
		n++
		active = true
	}
	if s.Calculation == CalculationAvg && n > 0 {
		ql, maxValue = ql/float64(n), maxValue/float64(n)
	}
	return ql, maxValue, active
}
