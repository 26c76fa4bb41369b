package decide

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"ebb.dev/services/decider/hpa"
)

func fast(s *Spec) { s.FastScaleUp = true }

func scaleUp(window int32, policies ...autoscalingv2.HPAScalingPolicy) func(*Spec) {
	return func(s *Spec) {
		s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, Policies: policies},
		}
	}
}

func podsPolicy(n, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: n, PeriodSeconds: period}
}

func percentPolicy(n, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: n, PeriodSeconds: period}
}

func valueTarget(s *Spec) { s.Triggers[0].MetricType = autoscalingv2.ValueMetricType }

func TestReplicasFastPath(t *testing.T) {
	type tc struct {
		spec     Spec
		replicas int32
		pods     *hpa.Pods
		readings []Reading
		want     outcome
	}
	active := func(n int32, scale bool, r Reason) outcome {
		return outcome{Replicas: n, Scale: scale, Active: true, Reason: r, LastActive: now}
	}
	tests := map[string]tc{
		"without behavior.scaleUp the HPA's count is taken at once": {
			spec: object(fast), replicas: 1, readings: values(100), want: active(20, true, ReasonFastPath)},
		"from zero it goes past the activation count straight to the HPA's": {
			spec: object(fast), replicas: 0, readings: values(100), want: active(20, true, ReasonFastPath)},
		"from zero a count at the activation count is a plain activation": {
			spec: object(fast), replicas: 0, readings: values(3), want: active(1, true, ReasonActivate)},
		"from zero below minReplicaCount it activates to the minimum": {
			spec: object(fast, minMax(4, 30)), replicas: 0, readings: values(10), want: active(4, true, ReasonActivate)},
		"from an idle count it goes to the HPA's count when above min": {
			spec: object(fast, minMax(3, 30), idle(1)), replicas: 1, readings: values(100), want: active(20, true, ReasonFastPath)},
		"never above maxReplicaCount": {
			spec: object(fast, minMax(0, 30)), replicas: 2, readings: values(1000), want: active(30, true, ReasonFastPath)},
		"never above maxReplicaCount from zero either": {
			spec: object(fast, minMax(0, 30)), replicas: 0, readings: values(1000), want: active(30, true, ReasonFastPath)},
		"at the HPA's count nothing is written": {
			spec: object(fast), replicas: 20, readings: values(100), want: active(20, false, ReasonHPA)},
		"above the HPA's count the scale-down is the HPA's": {
			spec: object(fast), replicas: 30, readings: values(100), want: active(20, false, ReasonHPA)},
		"within the HPA's tolerance the count is kept": {
			spec: object(fast), replicas: 19, readings: values(100), want: active(19, false, ReasonHPA)},
		"off by annotation the HPA takes it at its own pace": {
			spec: object(), replicas: 1, readings: values(100), want: active(20, false, ReasonHPA)},
		"off by annotation activation goes to one": {
			spec: object(), replicas: 0, readings: values(100), want: active(1, true, ReasonActivate)},
		"paused objects never": {
			spec: object(fast, pause(Pause{Paused: true})), replicas: 1, readings: values(100), want: active(1, false, ReasonPaused)},
		"paused at a count never": {
			spec: object(fast, pause(Pause{Replicas: new(int32(2))})), replicas: 2, readings: values(100), want: active(2, false, ReasonPaused)},
		"paused scale-out never": {
			spec: object(fast, pause(Pause{ScaleOut: true})), replicas: 2, readings: values(100), want: active(2, false, ReasonHPA)},
		"paused scale-out at zero stays at zero": {
			spec: object(fast, pause(Pause{ScaleOut: true})), replicas: 0, readings: values(100), want: active(0, false, ReasonPaused)},
		"inactive objects leave a higher count to the HPA": {
			spec: object(fast, triggers(trigger("queue", 5, 200))), replicas: 2, readings: values(100),
			want: outcome{Replicas: 20, Reason: ReasonCooldown, Next: now.Add(5*time.Minute - time.Second)}},
		"a Value target multiplies the ratio by the ready pods": {
			spec: object(fast, valueTarget), replicas: 2, readings: values(15), want: active(6, true, ReasonFastPath)},
		"a Value target counts only ready pods, not the ones still starting": {
			spec: object(fast, valueTarget), replicas: 4, pods: &hpa.Pods{Existing: 4, Ready: 2}, readings: values(15),
			want: active(6, true, ReasonFastPath)},
		"a Value target with no ready pods has no count above current": {
			spec: object(fast, valueTarget), replicas: 20, pods: &hpa.Pods{Existing: 20, Ready: 0}, readings: values(100),
			want: active(1, false, ReasonMin)},
		"a Value target from zero is the ratio alone": {
			spec: object(fast, valueTarget), replicas: 0, readings: values(100), want: active(20, true, ReasonFastPath)},
		"an AverageValue target divides by the pods that exist": {
			spec: object(fast), replicas: 10, pods: &hpa.Pods{Existing: 4, Ready: 0}, readings: values(100),
			want: active(20, true, ReasonFastPath)},
		"scalingModifiers go to the composite metric's count": {
			spec: object(fast, modifiers("queue * 2", 10, 0)), replicas: 1, readings: values(100), want: active(20, true, ReasonFastPath)},
		"a trigger in fallback goes to the fallback count": {
			spec: object(fast, fallback(3, 6, FallbackStatic)), replicas: 2, readings: []Reading{failed(4)}, want: active(6, true, ReasonFastPath)},
		"behavior without scaleUp goes straight to the count": {
			spec: object(fast, func(s *Spec) {
				s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{}}
			}), replicas: 1, readings: values(100), want: active(20, true, ReasonFastPath)},
		"a scaleUp Pods policy allows its pods per period": {
			spec: object(fast, scaleUp(0, podsPolicy(4, 15))), replicas: 1, readings: values(100), want: active(5, true, ReasonFastPath)},
		"a scaleUp Percent policy allows its share of the current count": {
			spec: object(fast, scaleUp(0, percentPolicy(100, 15))), replicas: 3, readings: values(100), want: active(6, true, ReasonFastPath)},
		"scaleUp with only a window keeps the default policies: 4 pods or 100 %": {
			spec: object(fast, scaleUp(0)), replicas: 6, readings: values(100), want: active(12, true, ReasonFastPath)},
		"a scaleUp policy counts from the activation count": {
			spec: object(fast, scaleUp(0, podsPolicy(4, 15))), replicas: 0, readings: values(100), want: active(5, true, ReasonFastPath)},
		"a scaleUp policy more permissive than max stops at max": {
			spec: object(fast, minMax(0, 30), scaleUp(0, percentPolicy(1000, 15))), replicas: 4, readings: values(1000),
			want: active(30, true, ReasonFastPath)},
		"a disabled scaleUp never": {
			spec: object(fast, func(s *Spec) {
				disabled := autoscalingv2.DisabledPolicySelect
				s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}}
			}), replicas: 2, readings: values(100), want: active(2, false, ReasonHPA)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := Replicas(Input{Now: now, Policy: compile(t, tc.spec), Replicas: tc.replicas, Pods: tc.pods, LastActive: now.Add(-time.Second), Readings: tc.readings})
			got, want := outcomeOf(res), tc.want
			got.LastActive, want.LastActive = time.Time{}, time.Time{} // the activation table covers it
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Replicas (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReplicasFastPathOverTime keeps one ScaleUp model across decisions, as the decider does:
// behavior.scaleUp's policies and stabilization apply at every decision, counting the fast
// path's own steps and the HPA's.
func TestReplicasFastPathOverTime(t *testing.T) {
	type step struct {
		at       time.Duration
		replicas int32
		value    float64
		want     outcome
	}
	active := func(at time.Duration, n int32, scale bool, r Reason) outcome {
		return outcome{Replicas: n, Scale: scale, Active: true, Reason: r, LastActive: now.Add(at)}
	}
	tests := map[string]struct {
		spec  Spec
		steps []step
	}{
		"4 pods per 15 s: one step per period, whoever took it": {
			spec: object(fast, scaleUp(0, podsPolicy(4, 15))),
			steps: []step{
				{at: 0, replicas: 1, value: 100, want: active(0, 5, true, ReasonFastPath)},
				{at: time.Second, replicas: 5, value: 100, want: active(time.Second, 20, false, ReasonHPA)},
				{at: 16 * time.Second, replicas: 5, value: 100, want: active(16*time.Second, 9, true, ReasonFastPath)},
				// the HPA added 4 more meanwhile: that uses up the next period's allowance too
				{at: 20 * time.Second, replicas: 13, value: 100, want: active(20*time.Second, 20, false, ReasonHPA)},
				{at: 32 * time.Second, replicas: 13, value: 100, want: active(32*time.Second, 20, false, ReasonHPA)},
				{at: 36 * time.Second, replicas: 13, value: 100, want: active(36*time.Second, 17, true, ReasonFastPath)},
			},
		},
		"a 10 s stabilization window waits for the lowest recommendation to rise": {
			spec: object(fast, scaleUp(10, percentPolicy(1000, 15))),
			steps: []step{
				{at: 0, replicas: 2, value: 10, want: active(0, 2, false, ReasonHPA)},
				{at: 5 * time.Second, replicas: 2, value: 100, want: active(5*time.Second, 20, false, ReasonHPA)},
				{at: 11 * time.Second, replicas: 2, value: 100, want: active(11*time.Second, 20, true, ReasonFastPath)},
			},
		},
		"without scaleUp every decision goes straight to the count": {
			spec: object(fast),
			steps: []step{
				{at: 0, replicas: 1, value: 50, want: active(0, 10, true, ReasonFastPath)},
				{at: time.Second, replicas: 10, value: 100, want: active(time.Second, 20, true, ReasonFastPath)},
				{at: 2 * time.Second, replicas: 20, value: 100, want: active(2*time.Second, 20, false, ReasonHPA)},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := compile(t, tc.spec)
			model := p.NewScaleUp()
			for i, s := range tc.steps {
				res := Replicas(Input{Now: now.Add(s.at), Policy: p, Replicas: s.replicas, LastActive: now, Readings: values(s.value), ScaleUp: model})
				if diff := cmp.Diff(s.want, outcomeOf(res)); diff != "" {
					t.Errorf("step %d at %s (-want +got):\n%s", i, s.at, diff)
				}
			}
		})
	}
}

func TestScaleUpCloneKeepsHistoryApart(t *testing.T) {
	p := compile(t, object(fast, scaleUp(0, podsPolicy(4, 15))))
	model := p.NewScaleUp()
	in := Input{Now: now, Policy: p, Replicas: 1, Readings: values(100), ScaleUp: model}
	if got := Replicas(in).Replicas; got != 5 {
		t.Fatalf("first step to %d, want 5", got)
	}
	clone := model.Clone()
	in.Now, in.Replicas = now.Add(time.Second), 5
	in.ScaleUp = clone
	if got := Replicas(in).Reason; got != ReasonHPA {
		t.Errorf("the clone forgot the first step: reason %s, want hpa (no room in the period)", got)
	}
	in.ScaleUp = p.NewScaleUp()
	if got := Replicas(in).Replicas; got != 9 {
		t.Errorf("a new model took %d, want 9 (no history)", got)
	}
}
