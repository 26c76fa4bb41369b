package decide

import (
	"math"
	"time"

	"github.com/expr-lang/expr/vm"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"ebb.dev/services/decider/hpa"
)

// Reason says why a decision chose its replica count. The values are msg.Reason's.
type Reason string

const (
	ReasonActivate   Reason = "activate"   // active at zero (or below min from idle): scale to max(min, 1)
	ReasonDeactivate Reason = "deactivate" // inactive past the cooldown: scale to (or stay at) zero
	ReasonIdle       Reason = "idle"       // inactive past the cooldown: scale to (or stay at) idleReplicaCount
	ReasonCooldown   Reason = "cooldown"   // inactive, waiting out the cooldown (Result.Next)
	ReasonHPA        Reason = "hpa"        // the HPA moves the count between max(min, 1) and max
	ReasonFallback   Reason = "fallback"   // a trigger is served its fallback value
	ReasonPaused     Reason = "paused"     // held by a pause annotation
	ReasonMin        Reason = "min"        // raised to minReplicaCount
	ReasonMax        Reason = "max"        // capped at maxReplicaCount
	ReasonFailing    Reason = "failing"    // inactive while a trigger fails: held, never scaled to zero
	ReasonJobs       Reason = "jobs"       // ScaledJob: Jobs to create this interval
	ReasonFastPath   Reason = "fast-path"  // active, HPA's count above current: ebb writes it (or a step towards it) at once
)

// HealthStatus is Happy or Failing, as in status.health.
type HealthStatus string

const (
	Happy   HealthStatus = "Happy"
	Failing HealthStatus = "Failing"
)

// Reading is the latest poll of one trigger.
type Reading struct {
	Value    float64 // ignored unless the latest poll succeeded
	Failures int32   // consecutive failed polls up to the latest; 0 when the latest succeeded
	Missing  bool    // never read yet: no value, but not a failure either
	// At is when the value was read (the reading's observedAt); zero where unknown.
	At time.Time
}

// lastActive is lastActiveTime after an active decision: when the newest value it rests on
// was read, as KEDA stamps it at the poll that finds the object active. A decision made again
// between polls on the same readings must not move it, or the cooldown would run from that
// decision rather than from the last active poll. Without times (a trigger in fallback, tests)
// it is now.
func lastActive(readings []Reading, before, now time.Time) time.Time {
	var newest time.Time
	for _, r := range readings {
		if !r.Failed() && r.At.After(newest) {
			newest = r.At
		}
	}
	if newest.IsZero() {
		newest = now
	}
	if newest.Before(before) {
		return before
	}
	return newest
}

// Failed reports whether the reading has no usable value.
func (r Reading) Failed() bool { return r.Missing || r.Failures > 0 }

func (r Reading) health() Health {
	if r.Failures > 0 {
		return Health{NumberOfFailures: r.Failures, Status: Failing}
	}
	return Health{Status: Happy}
}

// Input is everything one ScaledObject decision depends on.
type Input struct {
	Now        time.Time
	Policy     *Policy
	Replicas   int32     // the scale target's current spec.replicas
	LastActive time.Time // status.lastActiveTime; zero when never active
	Readings   []Reading // one per Spec.Triggers entry (cpu/memory entries are ignored); absent ones are Missing
	// Pods says how many of the target's pods exist and are ready, as the HPA counts them
	// (its Replicas is ignored: Replicas above is the count); nil means all Replicas exist and
	// are ready. A Value target multiplies by the ready pods.
	Pods *hpa.Pods
	// ScaleUp is the object's fast-path model (Policy.NewScaleUp), kept from decision to
	// decision: Replicas advances it. Nil means one without history.
	ScaleUp *ScaleUp
}

// pods is the target's pods as the HPA reads them.
func (in Input) pods() hpa.Pods {
	if in.Pods == nil {
		return hpa.Steady(in.Replicas)
	}
	pods := *in.Pods
	pods.Replicas = in.Replicas
	return pods
}

// Source says where a served metric value comes from.
type Source string

const (
	SourceRaw       Source = "raw"       // the trigger's reading
	SourceFallback  Source = "fallback"  // target × fallback replicas
	SourceComposite Source = "composite" // the scalingModifiers formula
	SourceNone      Source = "none"      // nothing to serve: the metrics API answers with an error
)

// Metric is the value the metrics API must serve the HPA for one external metric.
type Metric struct {
	Name   string
	Value  float64
	Source Source
}

// Samples is what the HPA reads from the served metrics: a metric with nothing to serve is
// a failed request.
func Samples(served []Metric) []hpa.Sample {
	out := make([]hpa.Sample, len(served))
	for i, m := range served {
		out[i] = hpa.Sample{Value: m.Value, Failed: m.Source == SourceNone}
	}
	return out
}

// Health is one metric's status.health entry.
type Health struct {
	NumberOfFailures int32
	Status           HealthStatus
}

// TriggerState is what the decision made of one trigger.
type TriggerState struct {
	Active   bool // its reading is above its activation threshold, or it is in fallback
	Fallback bool // failed more than failureThreshold times in a row, with a fallback that applies
	Health   Health
}

// Result is one decision.
type Result struct {
	Replicas   int32          // the count the target should reach: ebb's own step, or where the HPA takes it
	Scale      bool           // ebb writes Replicas to the scale subresource (activate, deactivate, idle, min, fast-path); otherwise the HPA (or nothing) moves it
	Active     bool           // the object is active
	Reason     Reason         // why Replicas
	LastActive time.Time      // status.lastActiveTime after this decision
	Next       time.Time      // when the decision changes without new readings (cooldown end); zero if never
	Triggers   []TriggerState // one per Spec.Triggers entry
	Metrics    []Metric       // one per HPA external metric, in Policy.HPA().Metrics order
}

// evaluation is the object's state read from its triggers, before the scaling rules.
type evaluation struct {
	active   bool
	failing  bool // some trigger (or the formula) has no value this time
	fallback bool // some trigger is served its fallback value
}

// Replicas decides one ScaledObject: activation and the 0 <-> 1 step, cooldown, min, pause
// and fallback, as KEDA's scale loop does, plus the count the HPA will reach from the values
// the decision serves. When that count is above the current one and the object is active,
// the fast path takes it (or the step behavior.scaleUp allows now) at once; see fastScaleUp.
func Replicas(in Input) Result {
	p := in.Policy
	res := Result{LastActive: in.LastActive, Triggers: make([]TriggerState, len(p.spec.Triggers))}
	ev := p.evaluate(in, &res)
	res.Active = ev.active
	s, current := p.spec, in.Replicas

	if s.Pause.Replicas != nil || s.Pause.Paused {
		res.Replicas, res.Reason = current, ReasonPaused
		if n := s.Pause.Replicas; n != nil {
			res.Replicas, res.Scale = *n, *n != current
		}
		return res
	}
	if ev.active {
		// Every active decision refreshes lastActiveTime, also while a trigger is in fallback
		// (KEDA skips it on any trigger error), so the cooldown runs from the last activity.
		res.LastActive = lastActive(in.Readings, in.LastActive, in.Now)
		if (s.Idle != nil && current < s.Min) || current == 0 {
			if s.Pause.ScaleOut {
				res.Replicas, res.Reason = current, ReasonPaused
				return res
			}
			res.Replicas, res.Scale, res.Reason = max(s.Min, 1), true, ReasonActivate
			// From zero the HPA's count is the metrics' alone: no pods to average over or
			// multiply by, as the HPA computes it once the first pods are up.
			target, _ := p.hpaTarget(hpa.Pods{}, res.Metrics, ev.fallback)
			p.fastScaleUp(in, res.Replicas, target, &res)
			return res
		}
		res.Replicas, res.Reason = p.hpaTarget(in.pods(), res.Metrics, ev.fallback)
		p.fastScaleUp(in, current, res.Replicas, &res)
		return res
	}
	switch {
	case ev.failing && (s.Fallback == nil || s.Fallback.Replicas != 0):
		// KEDA holds an inactive object whose triggers fail: with a fallback so that the HPA
		// can still apply it, without one because nothing is known.
		res.Replicas, _ = p.hold(in.pods(), res.Metrics)
		res.Reason = ReasonFailing
	case (s.Idle != nil && current > *s.Idle) || (current > 0 && s.Min == 0):
		p.deactivate(in, &res)
	case current < s.Min && s.Idle == nil:
		res.Replicas, res.Scale, res.Reason = s.Min, true, ReasonMin
	default:
		res.Replicas, res.Reason = p.hold(in.pods(), res.Metrics)
	}
	return res
}

// deactivate scales an inactive object to zero (or idle) once the cooldown has passed.
func (p *Policy) deactivate(in Input, res *Result) {
	s := p.spec
	if s.Pause.ScaleIn {
		res.Replicas, _ = p.hold(in.pods(), res.Metrics)
		res.Reason = ReasonPaused
		return
	}
	end := in.LastActive.Add(s.Cooldown)
	if in.LastActive.IsZero() {
		end = s.Created.Add(s.InitialCooldown)
	}
	if !in.Now.After(end) {
		res.Replicas, _ = p.hold(in.pods(), res.Metrics)
		res.Reason, res.Next = ReasonCooldown, end
		return
	}
	res.Replicas, res.Reason = 0, ReasonDeactivate
	if s.Idle != nil {
		res.Replicas, res.Reason = *s.Idle, ReasonIdle
	}
	res.Scale = res.Replicas != in.Replicas
}

// hold is an inactive object's count when ebb itself does nothing: zero stays zero (the HPA
// does nothing there), anything else is the HPA's, which raises an idle count above zero
// back to min (why KEDA supports only idleReplicaCount 0).
func (p *Policy) hold(pods hpa.Pods, served []Metric) (int32, Reason) {
	if pods.Replicas > 0 {
		return p.hpaTarget(pods, served, false)
	}
	if p.spec.Idle != nil {
		return 0, ReasonIdle
	}
	return 0, ReasonDeactivate
}

// hpaTarget is the count the HPA reaches from pods with the served values: each metric's
// proposal as the HPA computes it, the largest, kept at current in a Disabled direction, within
// [max(min, 1), max]. cpu/memory metrics are not known here and do not move it.
func (p *Policy) hpaTarget(pods hpa.Pods, served []Metric, fallback bool) (int32, Reason) {
	current := pods.Replicas
	best, _, ok := hpa.Propose(p.metrics, Samples(served), pods, p.tol)
	if !ok {
		best = current // the HPA keeps the count when it cannot read enough metrics
	}
	if (p.noUp && best > current) || (p.noDown && best < current) {
		best = current
	}
	reason := ReasonHPA
	if fallback {
		reason = ReasonFallback
	}
	lo, hi := max(p.spec.Min, 1), p.spec.Max
	switch {
	case best > hi:
		best = hi
		if !fallback {
			reason = ReasonMax
		}
	case best < lo:
		best = lo
		if !fallback {
			reason = ReasonMin
		}
	}
	return best, reason
}

// evaluate reads every trigger: activity, fallback, health, and the values to serve.
func (p *Policy) evaluate(in Input, res *Result) evaluation {
	s := p.spec
	var ev evaluation
	external := make([]Metric, 0, p.external)
	for i, t := range s.Triggers {
		if t.Resource {
			continue
		}
		r := reading(in.Readings, i)
		st := &res.Triggers[i]
		st.Health = r.health()
		st.Fallback = p.inFallback(t, r)
		m := Metric{Name: t.Metric, Value: r.Value, Source: SourceRaw}
		switch {
		case st.Fallback:
			st.Active, ev.fallback = true, true
			m.Value, m.Source = p.fallbackValue(t.Target, in.Replicas), SourceFallback
		case r.Failed():
			ev.failing = true
			m.Value, m.Source = 0, SourceNone
		default:
			st.Active = r.Value > t.Activation
		}
		ev.active = ev.active || st.Active
		external = append(external, m)
	}
	res.Metrics = external
	if p.formula != nil {
		res.Metrics = []Metric{p.composite(in, res.Triggers, &ev)}
	}
	if s.ForceActivation || p.external == 0 {
		ev.active = true
	}
	return ev
}

// composite evaluates the formula; the object is active when the composite value is above
// activationTarget, or when a trigger is in fallback (then the composite is the fallback).
func (p *Policy) composite(in Input, states []TriggerState, ev *evaluation) Metric {
	m := p.spec.Modifiers
	if ev.fallback {
		ev.active = true
		return Metric{Name: CompositeMetric, Value: p.fallbackValue(m.Target, in.Replicas), Source: SourceFallback}
	}
	env := make(map[string]any, p.external)
	for i, t := range p.spec.Triggers {
		if t.Resource {
			continue
		}
		if r := reading(in.Readings, i); r.Failed() {
			env[t.Name] = nil
		} else {
			env[t.Name] = r.Value
		}
	}
	ev.active = false
	v, ok := runFormula(p.formula, env)
	if !ok {
		ev.failing = true
		return Metric{Name: CompositeMetric, Source: SourceNone}
	}
	ev.active = v > m.ActivationTarget
	return Metric{Name: CompositeMetric, Value: v, Source: SourceComposite}
}

func runFormula(program *vm.Program, env map[string]any) (float64, bool) {
	out, err := vm.Run(program, env)
	if err != nil {
		return 0, false
	}
	v, ok := out.(float64)
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// inFallback: more than failureThreshold consecutive failures, with a fallback that applies
// to the metric (AverageValue only, as KEDA).
func (p *Policy) inFallback(t Trigger, r Reading) bool {
	f := p.spec.Fallback
	if f == nil || r.Failures <= f.FailureThreshold {
		return false
	}
	typ := t.MetricType
	if m := p.spec.Modifiers; m != nil {
		typ = m.MetricType
	}
	return metricType(typ) == autoscalingv2.AverageValueMetricType
}

// fallbackValue is target × the replicas the fallback behavior picks, so that the HPA
// computes exactly that many replicas from it.
func (p *Policy) fallbackValue(target float64, current int32) float64 {
	f := p.spec.Fallback
	n := f.Replicas
	switch f.Behavior {
	case FallbackCurrentReplicas:
		n = current
	case FallbackCurrentReplicasIfHigher:
		n = max(current, f.Replicas)
	case FallbackCurrentReplicasIfLower:
		n = min(current, f.Replicas)
	}
	return target * float64(n)
}

func reading(rs []Reading, i int) Reading {
	if i < len(rs) {
		return rs[i]
	}
	return Reading{Missing: true}
}
