package simulate

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"ebb.dev/services/decider/decide"
	"ebb.dev/services/decider/hpa"
)

// DefaultPollingInterval is KEDA's pollingInterval default.
const DefaultPollingInterval = 30 * time.Second

// Options shape a run. Zero values mean defaults.
type Options struct {
	PollingInterval time.Duration // how often triggers are read; DefaultPollingInterval when zero
	PodStart        time.Duration // how long a new pod takes to become ready; ready at once when zero
	Duration        time.Duration // how long to run; when zero, until the last step has played out
	Replicas        int32         // the target's replicas at the start
}

// epoch is the instant a run starts; offsets count from it and the object is created at it.
func epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// Run is the outcome of a simulation.
type Run struct {
	Kind     string   // ScaledObject or ScaledJob
	Triggers []string // the polled triggers' labels (name, else metric name), in spec order
	PodStart time.Duration
	Events   []Event
	Notes    []string // what the simulation leaves out
}

// Event is one poll (with ebb's decision) or one HPA sync.
type Event struct {
	At       Offset    `json:"at"`
	Kind     string    `json:"kind"` // poll or hpa
	Readings []Reading `json:"readings,omitempty"`
	Decision *Decision `json:"decision,omitempty"`
	HPA      *HPASync  `json:"hpa,omitempty"`
	Jobs     *Jobs     `json:"jobs,omitempty"`
	Replicas int32     `json:"replicas"` // the target's replicas after the event
	Ready    int32     `json:"ready"`    // of which ready
}

// Event kinds.
const (
	KindPoll = "poll"
	KindHPA  = "hpa"
)

// Reading is what one trigger read at a poll.
type Reading struct {
	Trigger  string   `json:"trigger"`
	Value    *float64 `json:"value,omitempty"` // absent when the poll failed
	Failures int32    `json:"failures,omitempty"`
}

// Decision is ebb's decision at a poll.
type Decision struct {
	Active  bool          `json:"active"`
	Reason  decide.Reason `json:"reason"`
	Desired int32         `json:"desired"`          // where ebb expects the target to go
	Scaled  bool          `json:"scaled,omitempty"` // ebb itself wrote the replica count
	Next    *Offset       `json:"next,omitempty"`   // when it changes by itself (cooldown end)
	Served  []Served      `json:"served,omitempty"` // what the HPA is served
}

// Served is one metric value served to the HPA.
type Served struct {
	Metric string        `json:"metric"`
	Value  float64       `json:"value"`
	Source decide.Source `json:"source"`
}

// HPASync is one HPA reconcile.
type HPASync struct {
	Proposal  int32         `json:"proposal"`
	Rescaled  bool          `json:"rescaled,omitempty"`
	Condition hpa.Condition `json:"condition"`
}

// Jobs is a ScaledJob decision's job arithmetic.
type Jobs struct {
	Create       int32 `json:"create"`
	Running      int32 `json:"running"` // before the new Jobs
	Pending      int32 `json:"pending"`
	ScaleTo      int64 `json:"scaleTo"`
	MaxScale     int64 `json:"maxScale"`
	EffectiveMax int64 `json:"effectiveMax"`
}

// sources plays the timeline: what each trigger reads at a given time.
type sources struct {
	steps    []Step
	next     int
	index    map[string]int // step key -> trigger index
	values   []float64
	failing  []bool
	failures []int32
	running  int32
	pending  int32
}

// newSources resolves step keys (trigger name, metric name or index) against the triggers.
func newSources(triggers []decide.Trigger, steps []Step) (*sources, error) {
	s := &sources{steps: steps, index: map[string]int{}, values: make([]float64, len(triggers)),
		failing: make([]bool, len(triggers)), failures: make([]int32, len(triggers))}
	for i, t := range triggers {
		if t.Resource {
			continue
		}
		for _, k := range []string{strconv.Itoa(i), t.Metric, t.Name} {
			if k != "" {
				s.index[k] = i
			}
		}
	}
	for _, st := range steps {
		for k := range st.Values {
			if _, ok := s.index[k]; !ok {
				return nil, fmt.Errorf("timeline line %d: values: no polled trigger %q", st.Line, k)
			}
		}
		for _, k := range st.Errors {
			if _, ok := s.index[k]; !ok {
				return nil, fmt.Errorf("timeline line %d: errors: no polled trigger %q", st.Line, k)
			}
		}
	}
	return s, nil
}

// advance applies the steps up to and including t.
func (s *sources) advance(t time.Duration) {
	for ; s.next < len(s.steps) && time.Duration(s.steps[s.next].At) <= t; s.next++ {
		st := s.steps[s.next]
		for k, v := range st.Values {
			s.values[s.index[k]], s.failing[s.index[k]] = v, false
		}
		for _, k := range st.Errors {
			s.failing[s.index[k]] = true
		}
		if st.Running != nil {
			s.running = *st.Running
		}
		if st.Pending != nil {
			s.pending = *st.Pending
		}
	}
}

// poll reads every trigger at t, counting consecutive failures as a poller would.
func (s *sources) poll(t time.Duration, triggers []decide.Trigger) ([]decide.Reading, []Reading) {
	s.advance(t)
	in := make([]decide.Reading, len(triggers))
	var out []Reading
	for i, tr := range triggers {
		if tr.Resource {
			continue
		}
		if s.failing[i] {
			s.failures[i]++
			in[i] = decide.Reading{Failures: s.failures[i]}
			out = append(out, Reading{Trigger: label(tr), Failures: s.failures[i]})
			continue
		}
		s.failures[i] = 0
		v := s.values[i]
		in[i] = decide.Reading{Value: v}
		out = append(out, Reading{Trigger: label(tr), Value: &v})
	}
	return in, out
}

func label(t decide.Trigger) string {
	if t.Name != "" {
		return t.Name
	}
	return t.Metric
}

func labels(ts []decide.Trigger) []string {
	var out []string
	for _, t := range ts {
		if !t.Resource {
			out = append(out, label(t))
		}
	}
	return out
}

func lastStep(steps []Step) time.Duration {
	if len(steps) == 0 {
		return 0
	}
	return time.Duration(steps[len(steps)-1].At)
}

func pollingInterval(o Options) time.Duration {
	if o.PollingInterval > 0 {
		return o.PollingInterval
	}
	return DefaultPollingInterval
}

// target is the scale target: its pods and when each was created.
type target struct {
	created  []time.Duration
	podStart time.Duration
}

func (g *target) replicas() int32 { return int32(len(g.created)) }

// scale adds pods created at t, or removes the newest first as a Deployment does with
// pods that are not yet ready.
func (g *target) scale(t time.Duration, n int32) {
	for g.replicas() < n {
		g.created = append(g.created, t)
	}
	g.created = g.created[:n]
}

func (g *target) ready(t time.Duration) int32 {
	var n int32
	for _, c := range g.created {
		if c+g.podStart <= t {
			n++
		}
	}
	return n
}

// Object simulates a ScaledObject created at the start of the run.
func Object(spec decide.Spec, steps []Step, o Options) (*Run, error) {
	spec.Created = epoch()
	p, err := decide.Compile(spec)
	if err != nil {
		return nil, err
	}
	h, err := hpa.New(p.HPA())
	if err != nil {
		return nil, fmt.Errorf("the HPA for this ScaledObject: %w", err)
	}
	src, err := newSources(spec.Triggers, steps)
	if err != nil {
		return nil, err
	}
	sim := &objectSim{policy: p, hpa: h, scaleUp: p.NewScaleUp(), src: src, target: &target{podStart: o.PodStart},
		run: &Run{Kind: "ScaledObject", Triggers: labels(spec.Triggers), PodStart: o.PodStart}}
	sim.target.scale(0, o.Replicas)
	if slices.ContainsFunc(spec.Triggers, func(t decide.Trigger) bool { return t.Resource }) {
		sim.run.Notes = append(sim.run.Notes, "cpu and memory triggers are not simulated: the HPA's resource metrics are left out")
	}
	if spec.Pause.Paused && spec.Pause.Replicas == nil {
		sim.run.Notes = append(sim.run.Notes, "paused: the HPA is left out while the object is paused")
	}
	poll, dur := pollingInterval(o), o.Duration
	if dur == 0 {
		dur = lastStep(steps) + max(spec.Cooldown, spec.InitialCooldown) + downscaleWindow(h) + 2*poll
	}
	for tp, ts := time.Duration(0), time.Duration(0); min(tp, ts) <= dur; {
		now := min(tp, ts)
		if tp == now {
			sim.poll(now)
			tp += poll
		}
		if ts == now {
			sim.sync(now)
			ts += hpa.SyncPeriod
		}
	}
	return sim.run, nil
}

// downscaleWindow is how long the HPA waits before scaling down.
func downscaleWindow(h *hpa.HPA) time.Duration {
	if b := h.Spec().Behavior; b != nil {
		return time.Duration(*b.ScaleDown.StabilizationWindowSeconds) * time.Second
	}
	return hpa.DefaultDownscaleStabilization
}

type objectSim struct {
	policy     *decide.Policy
	hpa        *hpa.HPA        // the HPA, synced every hpa.SyncPeriod
	scaleUp    *decide.ScaleUp // ebb's fast-path model, advanced at every decision as the decider does
	src        *sources
	target     *target
	lastActive time.Time
	served     []decide.Metric
	run        *Run
}

func (s *objectSim) poll(t time.Duration) {
	in, readings := s.src.poll(t, s.policy.Spec().Triggers)
	n := s.target.replicas()
	res := decide.Replicas(decide.Input{Now: epoch().Add(t), Policy: s.policy, Replicas: n,
		Pods: &hpa.Pods{Existing: n, Ready: s.target.ready(t)}, LastActive: s.lastActive, Readings: in, ScaleUp: s.scaleUp})
	s.lastActive, s.served = res.LastActive, res.Metrics
	if res.Scale {
		s.target.scale(t, res.Replicas)
	}
	d := &Decision{Active: res.Active, Reason: res.Reason, Desired: res.Replicas, Scaled: res.Scale}
	if !res.Next.IsZero() {
		next := Offset(res.Next.Sub(epoch()))
		d.Next = &next
	}
	for _, m := range res.Metrics {
		d.Served = append(d.Served, Served{Metric: m.Name, Value: m.Value, Source: m.Source})
	}
	s.record(Event{At: Offset(t), Kind: KindPoll, Readings: readings, Decision: d})
}

func (s *objectSim) sync(t time.Duration) {
	if pause := s.policy.Spec().Pause; pause.Paused && pause.Replicas == nil {
		return
	}
	n := s.target.replicas()
	res := s.hpa.SyncPods(epoch().Add(t), hpa.Pods{Replicas: n, Existing: n, Ready: s.target.ready(t)}, decide.Samples(s.served))
	if res.Rescaled {
		s.target.scale(t, res.Replicas)
	}
	s.record(Event{At: Offset(t), Kind: KindHPA, HPA: &HPASync{Proposal: res.Proposal, Rescaled: res.Rescaled, Condition: res.Condition}})
}

func (s *objectSim) record(e Event) {
	e.Replicas, e.Ready = s.target.replicas(), s.target.ready(time.Duration(e.At))
	s.run.Events = append(s.run.Events, e)
}

// Job simulates a ScaledJob: a decision every polling interval, with the Jobs it creates
// counted as running until the timeline sets the running count again.
func Job(spec decide.JobSpec, steps []Step, o Options) (*Run, error) {
	p, err := decide.CompileJob(spec)
	if err != nil {
		return nil, err
	}
	src, err := newSources(spec.Triggers, steps)
	if err != nil {
		return nil, err
	}
	run := &Run{Kind: "ScaledJob", Triggers: labels(spec.Triggers)}
	poll, dur := pollingInterval(o), o.Duration
	if dur == 0 {
		dur = lastStep(steps) + 2*poll
	}
	var lastActive time.Time
	for t := time.Duration(0); t <= dur; t += poll {
		in, readings := src.poll(t, spec.Triggers)
		res := decide.Jobs(decide.JobInput{Now: epoch().Add(t), Policy: p, Running: src.running, Pending: src.pending,
			LastActive: lastActive, Readings: in})
		lastActive = res.LastActive
		jobs := &Jobs{Create: res.Create, Running: src.running, Pending: src.pending,
			ScaleTo: res.ScaleTo, MaxScale: res.MaxScale, EffectiveMax: res.EffectiveMax}
		src.running += res.Create
		run.Events = append(run.Events, Event{At: Offset(t), Kind: KindPoll, Readings: readings,
			Decision: &Decision{Active: res.Active, Reason: res.Reason}, Jobs: jobs, Replicas: src.running, Ready: src.running})
	}
	return run, nil
}
