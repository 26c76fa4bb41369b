package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

var (
	now     = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	created = now.Add(-time.Hour)
)

func trigger(name string, target, activation float64) Trigger {
	return Trigger{Name: name, Metric: "s0-rabbitmq-" + name, Target: target, Activation: activation}
}

// object is a ScaledObject with KEDA's defaults and one queue trigger (target 5), changed by opts.
func object(opts ...func(*Spec)) Spec {
	s := Spec{Max: 100, Cooldown: 5 * time.Minute, Created: created, Triggers: []Trigger{trigger("queue", 5, 0)}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func minMax(lo, hi int32) func(*Spec) { return func(s *Spec) { s.Min, s.Max = lo, hi } }
func idle(n int32) func(*Spec)        { return func(s *Spec) { s.Idle = &n } }
func triggers(ts ...Trigger) func(*Spec) {
	return func(s *Spec) {
		for i := range ts {
			ts[i].Metric = strings.Replace(ts[i].Metric, "s0-", "s"+string(rune('0'+i))+"-", 1)
		}
		s.Triggers = ts
	}
}
func fallback(threshold, replicas int32, b FallbackBehavior) func(*Spec) {
	return func(s *Spec) { s.Fallback = &Fallback{FailureThreshold: threshold, Replicas: replicas, Behavior: b} }
}
func modifiers(formula string, target, activation float64) func(*Spec) {
	return func(s *Spec) {
		s.Modifiers = &Modifiers{Formula: formula, Target: target, ActivationTarget: activation}
	}
}
func pause(p Pause) func(*Spec) { return func(s *Spec) { s.Pause = p } }

func compile(t testing.TB, s Spec) *Policy {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func values(vs ...float64) []Reading {
	rs := make([]Reading, len(vs))
	for i, v := range vs {
		rs[i] = Reading{Value: v}
	}
	return rs
}

func failed(n int32) Reading { return Reading{Failures: n} }

// outcome is the part of a Result the scaling-rule tables compare.
type outcome struct {
	Replicas   int32
	Scale      bool
	Active     bool
	Reason     Reason
	LastActive time.Time
	Next       time.Time
}

func outcomeOf(r Result) outcome {
	return outcome{r.Replicas, r.Scale, r.Active, r.Reason, r.LastActive, r.Next}
}

type decision struct {
	spec       Spec
	replicas   int32
	lastActive time.Time
	readings   []Reading
	at         time.Time // now when zero
}

func (d decision) run(t testing.TB) Result {
	t.Helper()
	at := d.at
	if at.IsZero() {
		at = now
	}
	return Replicas(Input{Now: at, Policy: compile(t, d.spec), Replicas: d.replicas, LastActive: d.lastActive, Readings: d.readings})
}

func TestReplicasActivation(t *testing.T) {
	before := now.Add(-time.Minute)
	tests := map[string]struct {
		in   decision
		want outcome
	}{
		"a value above the activation threshold scales from zero to one": {
			in:   decision{spec: object(), replicas: 0, readings: values(10)},
			want: outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"a value equal to the activation threshold is inactive": {
			in:   decision{spec: object(triggers(trigger("queue", 5, 50))), replicas: 0, readings: values(50)},
			want: outcome{Replicas: 0, Reason: ReasonDeactivate}},
		"a threshold of 10 with activation 50 at 40 messages stays at zero": {
			in:   decision{spec: object(triggers(trigger("queue", 10, 50))), replicas: 0, readings: values(40)},
			want: outcome{Replicas: 0, Reason: ReasonDeactivate}},
		"a value of zero is inactive with the default threshold": {
			in:   decision{spec: object(), replicas: 0, readings: values(0)},
			want: outcome{Replicas: 0, Reason: ReasonDeactivate}},
		"100 messages at target 5 take the HPA to 20 replicas": {
			in:   decision{spec: object(), replicas: 1, readings: values(100)},
			want: outcome{Replicas: 20, Active: true, Reason: ReasonHPA, LastActive: now}},
		"activation from zero goes to minReplicaCount when it is above one": {
			in:   decision{spec: object(minMax(3, 10)), replicas: 0, readings: values(1)},
			want: outcome{Replicas: 3, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"activation from idle goes to minReplicaCount": {
			in:   decision{spec: object(minMax(2, 10), idle(0)), replicas: 0, readings: values(1)},
			want: outcome{Replicas: 2, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"activation from an idle count above zero goes to minReplicaCount": {
			in:   decision{spec: object(minMax(3, 10), idle(1)), replicas: 1, readings: values(1)},
			want: outcome{Replicas: 3, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"force-activation activates with an empty queue": {
			in:   decision{spec: object(func(s *Spec) { s.ForceActivation = true }), replicas: 0, readings: values(0)},
			want: outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"one active trigger of two activates the object": {
			in: decision{spec: object(triggers(trigger("a", 5, 10), trigger("b", 5, 0))),
				replicas: 0, readings: values(3, 1)},
			want: outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"an active object that runs leaves the count to the HPA and refreshes lastActiveTime": {
			in:   decision{spec: object(), replicas: 4, lastActive: before, readings: values(20)},
			want: outcome{Replicas: 4, Active: true, Reason: ReasonHPA, LastActive: now}},
		"an object of only cpu and memory triggers is always active": {
			in:   decision{spec: object(triggers(Trigger{Name: "cpu", Resource: true})), replicas: 0},
			want: outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"an object of only cpu and memory triggers keeps its count for the HPA to decide": {
			in:   decision{spec: object(triggers(Trigger{Name: "cpu", Resource: true})), replicas: 7},
			want: outcome{Replicas: 7, Active: true, Reason: ReasonHPA, LastActive: now}},
		"a cpu trigger beside a queue does not keep the object active": {
			in: decision{spec: object(triggers(Trigger{Name: "cpu", Resource: true}, trigger("queue", 5, 0))),
				replicas: 0, readings: []Reading{{}, {Value: 0}}},
			want: outcome{Replicas: 0, Reason: ReasonDeactivate}},
		"a value target asks the HPA for ratio x current replicas": {
			in: decision{spec: object(triggers(Trigger{Name: "q", Metric: "s0-q", MetricType: autoscalingv2.ValueMetricType, Target: 10})),
				replicas: 2, readings: values(30)},
			want: outcome{Replicas: 6, Active: true, Reason: ReasonHPA, LastActive: now}},
		"the HPA target never goes above maxReplicaCount": {
			in:   decision{spec: object(minMax(0, 50)), replicas: 10, readings: values(1000)},
			want: outcome{Replicas: 50, Active: true, Reason: ReasonMax, LastActive: now}},
		"a count above maxReplicaCount is brought down to max": {
			in:   decision{spec: object(minMax(0, 10)), replicas: 12, readings: values(100)},
			want: outcome{Replicas: 10, Active: true, Reason: ReasonMax, LastActive: now}},
		"the HPA target never goes below minReplicaCount": {
			in:   decision{spec: object(minMax(3, 10)), replicas: 5, readings: values(1)},
			want: outcome{Replicas: 3, Active: true, Reason: ReasonMin, LastActive: now}},
		"an active count below min is raised to min by the HPA": {
			in:   decision{spec: object(minMax(3, 10)), replicas: 2, readings: values(1)},
			want: outcome{Replicas: 3, Active: true, Reason: ReasonMin, LastActive: now}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, outcomeOf(tc.in.run(t))); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicasCooldown(t *testing.T) {
	last := now.Add(-4 * time.Minute)
	tests := map[string]struct {
		in   decision
		want outcome
	}{
		"inactive inside the cooldown waits and says when it ends, while the HPA scales in": {
			in:   decision{spec: object(), replicas: 3, lastActive: last, readings: values(0)},
			want: outcome{Replicas: 1, Reason: ReasonCooldown, LastActive: last, Next: last.Add(5 * time.Minute)}},
		"inactive exactly at the end of the cooldown still waits": {
			in:   decision{spec: object(), replicas: 3, lastActive: last, readings: values(0), at: last.Add(5 * time.Minute)},
			want: outcome{Replicas: 1, Reason: ReasonCooldown, LastActive: last, Next: last.Add(5 * time.Minute)}},
		"inactive past the cooldown scales to zero": {
			in:   decision{spec: object(), replicas: 3, lastActive: last, readings: values(0), at: last.Add(5*time.Minute + time.Nanosecond)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate, LastActive: last}},
		"a zero cooldown scales to zero at the first inactive decision": {
			in:   decision{spec: object(func(s *Spec) { s.Cooldown = 0 }), replicas: 3, lastActive: now.Add(-time.Second), readings: values(0)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate, LastActive: now.Add(-time.Second)}},
		"never active, the initial cooldown counts from creation": {
			in: decision{spec: object(func(s *Spec) { s.Created, s.InitialCooldown = now.Add(-30*time.Second), time.Minute }),
				replicas: 2, readings: values(0)},
			want: outcome{Replicas: 1, Reason: ReasonCooldown, Next: now.Add(30 * time.Second)}},
		"never active, past the initial cooldown scales to zero": {
			in: decision{spec: object(func(s *Spec) { s.Created, s.InitialCooldown = now.Add(-61*time.Second), time.Minute }),
				replicas: 2, readings: values(0)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate}},
		"never active without an initial cooldown scales to zero at once": {
			in:   decision{spec: object(), replicas: 2, readings: values(0)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate}},
		"past the cooldown with idleReplicaCount scales to idle": {
			in:   decision{spec: object(minMax(2, 10), idle(0)), replicas: 4, lastActive: now.Add(-time.Hour), readings: values(0)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonIdle, LastActive: now.Add(-time.Hour)}},
		"at idle and inactive nothing happens": {
			in:   decision{spec: object(minMax(2, 10), idle(0)), replicas: 0, lastActive: now.Add(-time.Hour), readings: values(0)},
			want: outcome{Replicas: 0, Reason: ReasonIdle, LastActive: now.Add(-time.Hour)}},
		"at zero and inactive nothing happens": {
			in:   decision{spec: object(), replicas: 0, lastActive: now.Add(-time.Hour), readings: values(0)},
			want: outcome{Replicas: 0, Reason: ReasonDeactivate, LastActive: now.Add(-time.Hour)}},
		"inactive below min without idle is raised to min": {
			in:   decision{spec: object(minMax(2, 10)), replicas: 0, readings: values(0)},
			want: outcome{Replicas: 2, Scale: true, Reason: ReasonMin}},
		"active again on a reading already seen: lastActiveTime stays when it was read": {
			in: decision{spec: object(), replicas: 3, lastActive: last, at: now.Add(20 * time.Second),
				readings: []Reading{{Value: 10, At: now}}},
			want: outcome{Replicas: 2, Active: true, Reason: ReasonHPA, LastActive: now}},
		"a reading older than lastActiveTime never moves it back": {
			in:   decision{spec: object(), replicas: 3, lastActive: now, readings: []Reading{{Value: 10, At: last}}},
			want: outcome{Replicas: 2, Active: true, Reason: ReasonHPA, LastActive: now}},
		"the newest of several readings stamps it": {
			in: decision{spec: object(triggers(trigger("s0-a", 5, 0), trigger("s1-b", 5, 0))), replicas: 3, lastActive: last,
				readings: []Reading{{Value: 10, At: now.Add(-time.Second)}, {Value: 0, At: now}}},
			want: outcome{Replicas: 2, Active: true, Reason: ReasonHPA, LastActive: now}},
		"inactive with a min above zero leaves the count to the HPA": {
			in:   decision{spec: object(minMax(2, 10)), replicas: 5, lastActive: now.Add(-time.Hour), readings: values(0)},
			want: outcome{Replicas: 2, Reason: ReasonMin, LastActive: now.Add(-time.Hour)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, outcomeOf(tc.in.run(t))); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicasPause(t *testing.T) {
	four := int32(4)
	last := now.Add(-time.Hour)
	tests := map[string]struct {
		in   decision
		want outcome
	}{
		"paused-replicas holds the given count": {
			in:   decision{spec: object(pause(Pause{Replicas: &four})), replicas: 2, lastActive: last, readings: values(100)},
			want: outcome{Replicas: 4, Scale: true, Active: true, Reason: ReasonPaused, LastActive: last}},
		"paused-replicas at the current count writes nothing": {
			in:   decision{spec: object(pause(Pause{Replicas: &four})), replicas: 4, lastActive: last, readings: values(0)},
			want: outcome{Replicas: 4, Reason: ReasonPaused, LastActive: last}},
		"paused-replicas wins over paused": {
			in:   decision{spec: object(pause(Pause{Replicas: &four, Paused: true})), replicas: 9, readings: values(0)},
			want: outcome{Replicas: 4, Scale: true, Reason: ReasonPaused}},
		"paused holds the current count whatever the triggers say": {
			in:   decision{spec: object(pause(Pause{Paused: true})), replicas: 3, lastActive: last, readings: values(1000)},
			want: outcome{Replicas: 3, Active: true, Reason: ReasonPaused, LastActive: last}},
		"paused holds zero": {
			in:   decision{spec: object(pause(Pause{Paused: true})), replicas: 0, readings: values(1000)},
			want: outcome{Replicas: 0, Active: true, Reason: ReasonPaused}},
		"paused-scale-out blocks the activation from zero": {
			in:   decision{spec: object(pause(Pause{ScaleOut: true})), replicas: 0, readings: values(10)},
			want: outcome{Replicas: 0, Active: true, Reason: ReasonPaused, LastActive: now}},
		"paused-scale-out keeps the HPA from scaling out": {
			in:   decision{spec: object(pause(Pause{ScaleOut: true})), replicas: 2, readings: values(100)},
			want: outcome{Replicas: 2, Active: true, Reason: ReasonHPA, LastActive: now}},
		"paused-scale-out does not block the scale to zero": {
			in:   decision{spec: object(pause(Pause{ScaleOut: true})), replicas: 2, lastActive: last, readings: values(0)},
			want: outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate, LastActive: last}},
		"paused-scale-in blocks the scale to zero after the cooldown, and the HPA's scale-in": {
			in:   decision{spec: object(pause(Pause{ScaleIn: true})), replicas: 3, lastActive: last, readings: values(0)},
			want: outcome{Replicas: 3, Reason: ReasonPaused, LastActive: last}},
		"paused-scale-in does not block the activation": {
			in:   decision{spec: object(pause(Pause{ScaleIn: true})), replicas: 0, readings: values(10)},
			want: outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now}},
		"a Disabled scale-down in the behavior keeps the HPA from scaling in": {
			in: decision{spec: object(func(s *Spec) {
				d := autoscalingv2.DisabledPolicySelect
				s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: &d}}
			}), replicas: 6, readings: values(5)},
			want: outcome{Replicas: 6, Active: true, Reason: ReasonHPA, LastActive: now}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, outcomeOf(tc.in.run(t))); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicasFallback(t *testing.T) {
	last := now.Add(-time.Hour)
	tests := map[string]struct {
		in          decision
		want        outcome
		wantMetrics []Metric
	}{
		"failures up to the threshold serve nothing and hold the count": {
			in:          decision{spec: object(fallback(3, 6, "")), replicas: 2, lastActive: last, readings: []Reading{failed(3)}},
			want:        outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Source: SourceNone}}},
		"more than failureThreshold failures serve target x fallback replicas": {
			in:          decision{spec: object(fallback(3, 6, "")), replicas: 2, lastActive: last, readings: []Reading{failed(4)}},
			want:        outcome{Replicas: 6, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 30, Source: SourceFallback}}},
		"currentReplicas serves the current count": {
			in:          decision{spec: object(fallback(0, 6, FallbackCurrentReplicas)), replicas: 3, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 3, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 15, Source: SourceFallback}}},
		"currentReplicasIfHigher serves the current count when it is higher": {
			in:          decision{spec: object(fallback(0, 6, FallbackCurrentReplicasIfHigher)), replicas: 8, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 8, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 40, Source: SourceFallback}}},
		"currentReplicasIfHigher serves the fallback count when it is higher": {
			in:          decision{spec: object(fallback(0, 6, FallbackCurrentReplicasIfHigher)), replicas: 2, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 6, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 30, Source: SourceFallback}}},
		"currentReplicasIfLower serves the current count when it is lower": {
			in:          decision{spec: object(fallback(0, 6, FallbackCurrentReplicasIfLower)), replicas: 3, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 3, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 15, Source: SourceFallback}}},
		"currentReplicasIfLower serves the fallback count when it is lower": {
			in:          decision{spec: object(fallback(0, 6, FallbackCurrentReplicasIfLower)), replicas: 9, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 6, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 30, Source: SourceFallback}}},
		"a trigger in fallback activates the object from zero": {
			in:          decision{spec: object(fallback(0, 6, "")), replicas: 0, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Value: 30, Source: SourceFallback}}},
		"a failing trigger with a fallback set never lets the object scale to zero": {
			in:          decision{spec: object(fallback(5, 6, "")), replicas: 2, lastActive: last, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Source: SourceNone}}},
		"a failing trigger without a fallback holds the count too": {
			in:          decision{spec: object(), replicas: 2, lastActive: last, readings: []Reading{failed(9)}},
			want:        outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Source: SourceNone}}},
		"a trigger never read yet holds the count but is no failure": {
			in:          decision{spec: object(fallback(0, 6, "")), replicas: 2, lastActive: last},
			want:        outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Source: SourceNone}}},
		"a fallback of zero replicas does not hold the scale to zero": {
			in:          decision{spec: object(fallback(5, 0, "")), replicas: 2, lastActive: last, readings: []Reading{failed(1)}},
			want:        outcome{Replicas: 0, Scale: true, Reason: ReasonDeactivate, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-queue", Source: SourceNone}}},
		"fallback does not apply to a Value metric": {
			in: decision{spec: object(fallback(0, 6, ""), triggers(Trigger{Name: "q", Metric: "s0-q", MetricType: autoscalingv2.ValueMetricType, Target: 5})),
				replicas: 2, lastActive: last, readings: []Reading{failed(3)}},
			want:        outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetrics: []Metric{{Name: "s0-q", Source: SourceNone}}},
		"an active trigger keeps the object active and scaling up while another fails": {
			in: decision{spec: object(triggers(trigger("a", 5, 0), trigger("b", 5, 0))),
				replicas: 2, lastActive: last, readings: []Reading{{Value: 50}, failed(1)}},
			want:        outcome{Replicas: 10, Active: true, Reason: ReasonHPA, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-a", Value: 50, Source: SourceRaw}, {Name: "s1-rabbitmq-b", Source: SourceNone}}},
		"a failing trigger keeps the HPA from scaling down on the others": {
			in: decision{spec: object(triggers(trigger("a", 5, 0), trigger("b", 5, 0))),
				replicas: 4, lastActive: last, readings: []Reading{{Value: 5}, failed(1)}},
			want:        outcome{Replicas: 4, Active: true, Reason: ReasonHPA, LastActive: now},
			wantMetrics: []Metric{{Name: "s0-rabbitmq-a", Value: 5, Source: SourceRaw}, {Name: "s1-rabbitmq-b", Source: SourceNone}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.in.run(t)
			if diff := cmp.Diff(tc.want, outcomeOf(got)); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMetrics, got.Metrics); diff != "" {
				t.Errorf("served metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicasTriggerStates(t *testing.T) {
	spec := object(fallback(2, 4, ""), triggers(trigger("ok", 5, 10), trigger("flaky", 5, 0), trigger("down", 5, 0), Trigger{Name: "cpu", Resource: true}))
	got := decision{spec: spec, replicas: 3, readings: []Reading{{Value: 11}, failed(2), failed(3), {}}}.run(t)
	want := []TriggerState{
		{Active: true, Health: Health{Status: Happy}},
		{Health: Health{NumberOfFailures: 2, Status: Failing}},
		{Active: true, Fallback: true, Health: Health{NumberOfFailures: 3, Status: Failing}},
		{},
	}
	if diff := cmp.Diff(want, got.Triggers); diff != "" {
		t.Errorf("trigger states (-want +got):\n%s", diff)
	}
	wantMetrics := []Metric{
		{Name: "s0-rabbitmq-ok", Value: 11, Source: SourceRaw},
		{Name: "s1-rabbitmq-flaky", Source: SourceNone},
		{Name: "s2-rabbitmq-down", Value: 20, Source: SourceFallback},
	}
	if diff := cmp.Diff(wantMetrics, got.Metrics); diff != "" {
		t.Errorf("served metrics (-want +got):\n%s", diff)
	}
}

func TestReplicasModifiers(t *testing.T) {
	ab := triggers(trigger("a", 5, 0), trigger("b", 5, 0))
	last := now.Add(-time.Hour)
	tests := map[string]struct {
		in         decision
		want       outcome
		wantMetric Metric
	}{
		"the composite value is what the HPA sees": {
			in:         decision{spec: object(ab, modifiers("a + b", 10, 0)), replicas: 1, readings: values(30, 20)},
			want:       outcome{Replicas: 5, Active: true, Reason: ReasonHPA, LastActive: now},
			wantMetric: Metric{Name: CompositeMetric, Value: 50, Source: SourceComposite}},
		"the composite activates the object above activationTarget": {
			in:         decision{spec: object(ab, modifiers("a + b", 10, 49)), replicas: 0, readings: values(30, 20)},
			want:       outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now},
			wantMetric: Metric{Name: CompositeMetric, Value: 50, Source: SourceComposite}},
		"a composite equal to activationTarget is inactive": {
			in:         decision{spec: object(ab, modifiers("a + b", 10, 50)), replicas: 0, readings: values(30, 20)},
			want:       outcome{Replicas: 0, Reason: ReasonDeactivate},
			wantMetric: Metric{Name: CompositeMetric, Value: 50, Source: SourceComposite}},
		"the triggers' own activation thresholds do not count with a formula": {
			in:         decision{spec: object(triggers(trigger("a", 5, 100), trigger("b", 5, 100)), modifiers("a", 10, 0)), replicas: 0, readings: values(30, 0)},
			want:       outcome{Replicas: 1, Scale: true, Active: true, Reason: ReasonActivate, LastActive: now},
			wantMetric: Metric{Name: CompositeMetric, Value: 30, Source: SourceComposite}},
		"a failing trigger enters the formula as nil, so a ?? b falls back to b": {
			in:         decision{spec: object(ab, modifiers("a ?? b", 10, 0)), replicas: 2, readings: []Reading{failed(1), {Value: 40}}},
			want:       outcome{Replicas: 4, Active: true, Reason: ReasonHPA, LastActive: now},
			wantMetric: Metric{Name: CompositeMetric, Value: 40, Source: SourceComposite}},
		"a formula that fails on a nil trigger serves nothing and holds": {
			in:         decision{spec: object(ab, modifiers("a + b", 10, 0)), replicas: 2, lastActive: last, readings: []Reading{failed(1), {Value: 40}}},
			want:       outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetric: Metric{Name: CompositeMetric, Source: SourceNone}},
		"a division by zero serves nothing": {
			in:         decision{spec: object(ab, modifiers("a / b", 10, 0)), replicas: 2, lastActive: last, readings: values(3, 0)},
			want:       outcome{Replicas: 2, Reason: ReasonFailing, LastActive: last},
			wantMetric: Metric{Name: CompositeMetric, Source: SourceNone}},
		"a trigger in fallback serves modifiers.target x fallback replicas as the composite": {
			in:         decision{spec: object(ab, modifiers("a + b", 10, 0), fallback(0, 6, "")), replicas: 2, readings: []Reading{failed(1), {Value: 0}}},
			want:       outcome{Replicas: 6, Active: true, Reason: ReasonFallback, LastActive: now},
			wantMetric: Metric{Name: CompositeMetric, Value: 60, Source: SourceFallback}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.in.run(t)
			if diff := cmp.Diff(tc.want, outcomeOf(got)); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]Metric{tc.wantMetric}, got.Metrics); diff != "" {
				t.Errorf("served metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileRejectsBadSpecs(t *testing.T) {
	neg := int32(-1)
	tests := map[string]struct {
		spec Spec
		want string
	}{
		"minReplicaCount below zero":            {spec: object(minMax(-1, 10)), want: "spec.minReplicaCount"},
		"maxReplicaCount below minReplicaCount": {spec: object(minMax(5, 4)), want: "spec.maxReplicaCount"},
		"maxReplicaCount zero":                  {spec: object(minMax(0, 0)), want: "spec.maxReplicaCount"},
		"idleReplicaCount not below min":        {spec: object(minMax(2, 10), idle(2)), want: "spec.idleReplicaCount"},
		"a negative cooldown":                   {spec: object(func(s *Spec) { s.Cooldown = -time.Second }), want: "spec.cooldownPeriod"},
		"no triggers":                           {spec: object(triggers()), want: "spec.triggers"},
		"a zero target":                         {spec: object(triggers(trigger("q", 0, 0))), want: "spec.triggers[0].metadata"},
		"a Utilization metric on a queue": {
			spec: object(triggers(Trigger{Name: "q", Metric: "s0-q", Target: 1, MetricType: autoscalingv2.UtilizationMetricType})),
			want: "spec.triggers[0].metricType"},
		"two triggers with one name": {
			spec: object(triggers(trigger("q", 1, 0), trigger("q", 1, 0))), want: "spec.triggers[1].name"},
		"a trigger without a metric name": {
			spec: object(triggers(Trigger{Name: "q", Target: 1})), want: "spec.triggers[0].metricName"},
		"a formula naming no trigger": {
			spec: object(modifiers("queue + other", 10, 0)), want: "spec.advanced.scalingModifiers.formula"},
		"a formula that is not a number": {
			spec: object(modifiers("queue > 3", 10, 0)), want: "spec.advanced.scalingModifiers.formula"},
		"an empty formula": {
			spec: object(modifiers("", 10, 0)), want: "spec.advanced.scalingModifiers.formula"},
		"a modifiers target of zero": {
			spec: object(modifiers("queue", 0, 0)), want: "spec.advanced.scalingModifiers.target"},
		"modifiers with an unnamed trigger": {
			spec: object(triggers(Trigger{Metric: "s0-q", Target: 1}), modifiers("1", 10, 0)), want: "spec.triggers[0].name"},
		"a negative failure threshold": {
			spec: object(fallback(-1, 1, "")), want: "spec.fallback.failureThreshold"},
		"an unknown fallback behavior": {
			spec: object(fallback(1, 1, "sometimes")), want: "spec.fallback.behavior"},
		"negative paused replicas": {
			spec: object(pause(Pause{Replicas: &neg})), want: "autoscaling.keda.sh/paused-replicas"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}
