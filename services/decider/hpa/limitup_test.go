package hpa

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// TestLimitUp plays calls of LimitUp (and Observe) and checks each count and condition.
func TestLimitUp(t *testing.T) {
	type call struct {
		at        time.Duration
		current   int32
		desired   int32
		observe   [2]int32 // a change made elsewhere just before the call; zero: none
		want      int32
		condition Condition
	}
	up := func(r *autoscalingv2.HPAScalingRules) *autoscalingv2.HorizontalPodAutoscalerBehavior {
		return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: r}
	}
	tests := map[string]struct {
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		max      int32
		calls    []call
	}{
		"without behavior the proposal is taken at once, within max": {
			max: 30,
			calls: []call{
				{current: 1, desired: 20, want: 20, condition: DesiredWithinRange},
				{at: time.Second, current: 20, desired: 400, want: 30, condition: TooManyReplicas},
			},
		},
		"never below current": {
			max:   30,
			calls: []call{{current: 8, desired: 3, want: 8, condition: DesiredWithinRange}},
		},
		"with behavior but no scaleUp the defaults apply: 4 pods or 100 % per 15 s": {
			behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}, max: 100,
			calls: []call{
				{current: 1, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: time.Second, current: 5, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: 16 * time.Second, current: 5, desired: 20, want: 10, condition: ScaleUpLimit},
			},
		},
		"pods policy counts each rise inside its period, also between HPA syncs": {
			behavior: up(rules(0, "", pods(3, 10))), max: 100,
			calls: []call{
				{current: 2, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: 2 * time.Second, current: 5, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: 11 * time.Second, current: 5, desired: 20, want: 8, condition: ScaleUpLimit},
			},
		},
		"percent policy rounds up from the replicas at the start of the period": {
			behavior: up(rules(0, "", percent(50, 15))), max: 100,
			calls: []call{
				{current: 3, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: 15 * time.Second, current: 5, desired: 20, want: 8, condition: ScaleUpLimit},
			},
		},
		"selectPolicy Min takes the least permissive": {
			behavior: up(rules(0, autoscalingv2.MinChangePolicySelect, pods(10, 15), percent(100, 15))), max: 100,
			calls: []call{{current: 4, desired: 40, want: 8, condition: ScaleUpLimit}},
		},
		"max still caps a permissive policy": {
			behavior: up(rules(0, "", percent(1000, 15))), max: 30,
			calls: []call{{current: 3, desired: 50, want: 30, condition: TooManyReplicas}},
		},
		"stabilization takes the lowest recommendation of its window": {
			behavior: up(rules(30, "", percent(1000, 15))), max: 100,
			calls: []call{
				{current: 2, desired: 2, want: 2, condition: DesiredWithinRange},
				{at: 10 * time.Second, current: 2, desired: 20, want: 2, condition: ScaleUpStabilized},
				{at: 25 * time.Second, current: 2, desired: 12, want: 2, condition: ScaleUpStabilized},
				{at: 31 * time.Second, current: 2, desired: 20, want: 12, condition: ScaleUpStabilized},
				{at: 41 * time.Second, current: 12, desired: 20, want: 12, condition: ScaleUpStabilized},
				{at: 56 * time.Second, current: 12, desired: 20, want: 20, condition: DesiredWithinRange},
			},
		},
		"a rise made elsewhere counts against the policy": {
			behavior: up(rules(0, "", pods(4, 15))), max: 100,
			calls: []call{
				{current: 1, desired: 20, want: 5, condition: ScaleUpLimit},
				{at: 5 * time.Second, current: 9, desired: 20, observe: [2]int32{5, 9}, want: 9, condition: ScaleUpLimit},
				{at: 16 * time.Second, current: 9, desired: 20, want: 9, condition: ScaleUpLimit},
				{at: 21 * time.Second, current: 9, desired: 20, want: 13, condition: ScaleUpLimit},
			},
		},
		"a model without history waits out the window from its first call": {
			behavior: up(rules(20, "", percent(1000, 15))), max: 100,
			calls: []call{
				{current: 2, desired: 20, want: 2, condition: ScaleUpStabilized},
				{at: 10 * time.Second, current: 2, desired: 20, want: 2, condition: ScaleUpStabilized},
				{at: 21 * time.Second, current: 2, desired: 20, want: 20, condition: DesiredWithinRange},
			},
		},
		"disabled scale-up never rises": {
			behavior: up(rules(0, autoscalingv2.DisabledPolicySelect)), max: 100,
			calls: []call{{current: 1, desired: 20, want: 1, condition: ScaleUpLimit}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, err := New(spec(1, tc.max, tc.behavior))
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tc.calls {
				now := t0.Add(c.at)
				if c.observe != [2]int32{} {
					h.Observe(now, c.observe[0], c.observe[1])
				}
				got, cond := h.LimitUp(now, c.current, c.desired)
				if diff := cmp.Diff([2]any{c.want, c.condition}, [2]any{got, cond}); diff != "" {
					t.Errorf("call %d at %s: LimitUp(%d, %d) (-want +got):\n%s", i, c.at, c.current, c.desired, diff)
				}
			}
		})
	}
}
