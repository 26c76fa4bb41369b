package decide

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// job is a ScaledJob with min 0, max 10 and one trigger whose target is one message per Job.
func job(opts ...func(*JobSpec)) JobSpec {
	s := JobSpec{Max: 10, Triggers: []Trigger{trigger("queue", 1, 0)}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func strategy(st Strategy) func(*JobSpec) { return func(s *JobSpec) { s.Strategy = st } }
func jobRange(lo, hi int32) func(*JobSpec) {
	return func(s *JobSpec) { s.Min, s.Max = lo, hi }
}
func calc(c Calculation, ts ...Trigger) func(*JobSpec) {
	return func(s *JobSpec) {
		s.Calculation = c
		for i := range ts {
			ts[i].Metric = strings.Replace(ts[i].Metric, "s0-", "s"+string(rune('0'+i))+"-", 1)
		}
		s.Triggers = ts
	}
}

// jobOutcome is the part of a JobResult the tables compare.
type jobOutcome struct {
	Create                          int32
	Active                          bool
	Reason                          Reason
	ScaleTo, MaxScale, EffectiveMax int64
}

func TestJobs(t *testing.T) {
	custom := func(s *JobSpec) { s.Strategy, s.Deduction, s.RunningJobPercentage = StrategyCustom, 1, 0.5 }
	ab := []Trigger{trigger("a", 1, 0), trigger("b", 2, 0)}
	tests := map[string]struct {
		spec             JobSpec
		running, pending int32
		readings         []Reading
		want             jobOutcome
	}{
		"default creates maxScale minus running": {
			spec: job(), running: 3, pending: 1, readings: values(7),
			want: jobOutcome{Create: 4, Active: true, Reason: ReasonJobs, ScaleTo: 7, MaxScale: 7, EffectiveMax: 4}},
		"custom deducts a fixed count and a share of running Jobs": {
			spec: job(custom), running: 3, pending: 1, readings: values(7),
			want: jobOutcome{Create: 5, Active: true, Reason: ReasonJobs, ScaleTo: 7, MaxScale: 7, EffectiveMax: 5}},
		"custom is capped at maxReplicaCount - minReplicaCount": {
			spec: job(custom, func(s *JobSpec) { s.Deduction, s.RunningJobPercentage = -20, 0 }), running: 0, readings: values(7),
			want: jobOutcome{Create: 7, Active: true, Reason: ReasonJobs, ScaleTo: 7, MaxScale: 7, EffectiveMax: 10}},
		"accurate subtracts pending Jobs when under the cap": {
			spec: job(strategy(StrategyAccurate)), running: 3, pending: 1, readings: values(7),
			want: jobOutcome{Create: 6, Active: true, Reason: ReasonJobs, ScaleTo: 7, MaxScale: 7, EffectiveMax: 6}},
		"accurate fills up to the cap when the queue would overflow it": {
			spec: job(strategy(StrategyAccurate)), running: 3, pending: 1, readings: values(9),
			want: jobOutcome{Create: 7, Active: true, Reason: ReasonJobs, ScaleTo: 9, MaxScale: 9, EffectiveMax: 7}},
		"eager fills the free capacity up to the queue": {
			spec: job(strategy(StrategyEager)), running: 3, pending: 1, readings: values(7),
			want: jobOutcome{Create: 6, Active: true, Reason: ReasonJobs, ScaleTo: 10, MaxScale: 7, EffectiveMax: 6}},
		"eager is bounded by the free capacity": {
			spec: job(strategy(StrategyEager)), running: 6, pending: 2, readings: values(7),
			want: jobOutcome{Create: 2, Active: true, Reason: ReasonJobs, ScaleTo: 10, MaxScale: 7, EffectiveMax: 2}},
		"a negative effective max creates nothing": {
			spec: job(), running: 9, readings: values(2),
			want: jobOutcome{Create: 0, Active: true, Reason: ReasonJobs, ScaleTo: 2, MaxScale: 2, EffectiveMax: -7}},
		"a target of 2 halves maxScale, rounded up": {
			spec: job(calc(CalculationMax, trigger("q", 2, 0))), readings: values(7),
			want: jobOutcome{Create: 4, Active: true, Reason: ReasonJobs, ScaleTo: 7, MaxScale: 4, EffectiveMax: 4}},
		"maxScale is capped at maxReplicaCount - minReplicaCount": {
			spec: job(jobRange(2, 10)), running: 2, readings: values(20),
			want: jobOutcome{Create: 8, Active: true, Reason: ReasonJobs, ScaleTo: 20, MaxScale: 8, EffectiveMax: 8}},
		"the cap is maxReplicaCount alone when min is above max": {
			spec: job(jobRange(5, 3)), running: 5, readings: values(20),
			want: jobOutcome{Create: 3, Active: true, Reason: ReasonJobs, ScaleTo: 20, MaxScale: 3, EffectiveMax: 3}},
		"running below minReplicaCount creates the difference": {
			spec: job(jobRange(2, 10)), running: 0, readings: values(0),
			want: jobOutcome{Create: 2, Active: true, Reason: ReasonMin, ScaleTo: 0, MaxScale: 0}},
		"an empty queue creates nothing and is inactive": {
			spec: job(), readings: values(0),
			want: jobOutcome{Reason: ReasonJobs}},
		"a queue equal to the activation threshold is inactive": {
			spec: job(calc(CalculationMax, trigger("q", 1, 5))), readings: values(5),
			want: jobOutcome{Reason: ReasonJobs, ScaleTo: 0, MaxScale: 0}},
		"a failing trigger is left out": {
			spec: job(), readings: []Reading{failed(1)},
			want: jobOutcome{Reason: ReasonJobs}},
		"paused creates nothing": {
			spec: job(func(s *JobSpec) { s.Paused = true }), readings: values(7),
			want: jobOutcome{Active: true, Reason: ReasonPaused, ScaleTo: 7, MaxScale: 7}},
		"max picks the trigger with the longest queue": {
			spec: job(calc(CalculationMax, ab...)), readings: values(3, 8),
			want: jobOutcome{Create: 4, Active: true, Reason: ReasonJobs, ScaleTo: 8, MaxScale: 4, EffectiveMax: 4}},
		"min picks the trigger with the shortest queue": {
			spec: job(calc(CalculationMin, ab...)), readings: values(3, 8),
			want: jobOutcome{Create: 3, Active: true, Reason: ReasonJobs, ScaleTo: 3, MaxScale: 3, EffectiveMax: 3}},
		"avg averages queue lengths and max values": {
			spec: job(calc(CalculationAvg, ab...)), readings: values(3, 8),
			want: jobOutcome{Create: 4, Active: true, Reason: ReasonJobs, ScaleTo: 6, MaxScale: 4, EffectiveMax: 4}},
		"sum adds queue lengths and max values": {
			spec: job(calc(CalculationSum, ab...)), readings: values(3, 8),
			want: jobOutcome{Create: 7, Active: true, Reason: ReasonJobs, ScaleTo: 11, MaxScale: 7, EffectiveMax: 7}},
		"sum caps the added max values at the cap": {
			spec: job(calc(CalculationSum, ab...)), readings: values(9, 8),
			want: jobOutcome{Create: 10, Active: true, Reason: ReasonJobs, ScaleTo: 17, MaxScale: 10, EffectiveMax: 10}},
		"inactive triggers do not take part in the calculation": {
			spec: job(calc(CalculationMax, trigger("a", 1, 0), trigger("b", 2, 10))), readings: values(3, 8),
			want: jobOutcome{Create: 3, Active: true, Reason: ReasonJobs, ScaleTo: 3, MaxScale: 3, EffectiveMax: 3}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := CompileJob(tc.spec)
			if err != nil {
				t.Fatalf("CompileJob: %v", err)
			}
			r := Jobs(JobInput{Now: now, Policy: p, Running: tc.running, Pending: tc.pending, Readings: tc.readings})
			got := jobOutcome{r.Create, r.Active, r.Reason, r.ScaleTo, r.MaxScale, r.EffectiveMax}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Jobs (-want +got):\n%s", diff)
			}
			if r.Active && r.Reason != ReasonPaused && !r.LastActive.Equal(now) {
				t.Errorf("LastActive = %v, want %v for an active decision", r.LastActive, now)
			}
			if (!r.Active || r.Reason == ReasonPaused) && !r.LastActive.IsZero() {
				t.Errorf("LastActive = %v, want it unchanged (zero)", r.LastActive)
			}
		})
	}
}

func TestCompileJobRejectsBadSpecs(t *testing.T) {
	tests := map[string]struct {
		spec JobSpec
		want string
	}{
		"a negative max":      {spec: job(jobRange(0, -1)), want: "spec.maxReplicaCount"},
		"a cpu trigger":       {spec: job(calc(CalculationMax, Trigger{Name: "cpu", Resource: true})), want: "spec.triggers[0].type"},
		"an unknown strategy": {spec: job(strategy("greedy")), want: "spec.scalingStrategy.strategy"},
		"an unknown calculation": {
			spec: job(calc("median", trigger("q", 1, 0))), want: "spec.scalingStrategy.multipleScalersCalculation"},
		"a zero target": {spec: job(calc(CalculationMax, trigger("q", 0, 0))), want: "spec.triggers[0].metadata"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := CompileJob(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CompileJob error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}
