package hpa

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	avg = autoscalingv2.AverageValueMetricType
	val = autoscalingv2.ValueMetricType
)

func metric(name string, typ autoscalingv2.MetricTargetType, target float64) MetricSpec {
	return MetricSpec{Name: name, Type: typ, Target: target}
}

func spec(minR, maxR int32, b *autoscalingv2.HorizontalPodAutoscalerBehavior, ms ...MetricSpec) Spec {
	if len(ms) == 0 {
		ms = []MetricSpec{metric("s0-queue", avg, 1)}
	}
	return Spec{MinReplicas: minR, MaxReplicas: maxR, Metrics: ms, Behavior: b}
}

func rules(window int32, sel autoscalingv2.ScalingPolicySelect, policies ...autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	r := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, Policies: policies}
	if sel != "" {
		r.SelectPolicy = &sel
	}
	return r
}

func pods(n, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: n, PeriodSeconds: period}
}

func percent(n, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: n, PeriodSeconds: period}
}

func value(v float64) []Sample { return []Sample{{Value: v}} }

func TestProposal(t *testing.T) {
	tol := Tolerances{Down: 0.1, Up: 0.1}
	tests := map[string]struct {
		metric MetricSpec
		value  float64
		pods   Pods
		tol    Tolerances
		want   int32
		wantOK bool
	}{
		"100 messages at an average value of 5 ask for 20 replicas": {
			metric: metric("m", avg, 5), value: 100, pods: Steady(1), tol: tol, want: 20, wantOK: true},
		"a ratio of exactly 1.1 is within tolerance and keeps the count": {
			metric: metric("m", avg, 10), value: 110, pods: Steady(10), tol: tol, want: 10, wantOK: true},
		"a ratio just above 1.1 scales up to ceil(sum / target)": {
			metric: metric("m", avg, 10), value: 111, pods: Steady(10), tol: tol, want: 12, wantOK: true},
		"a ratio of exactly 0.9 is within tolerance and keeps the count": {
			metric: metric("m", avg, 10), value: 90, pods: Steady(10), tol: tol, want: 10, wantOK: true},
		"a ratio just below 0.9 scales down": {
			metric: metric("m", avg, 10), value: 89, pods: Steady(10), tol: tol, want: 9, wantOK: true},
		"an average value within tolerance keeps the pods that exist, not spec replicas": {
			metric: metric("m", avg, 10), value: 40, pods: Pods{Replicas: 5, Existing: 4, Ready: 4}, tol: tol, want: 4, wantOK: true},
		"an average value divides by existing pods, ready or not": {
			metric: metric("m", avg, 10), value: 50, pods: Pods{Replicas: 5, Existing: 5, Ready: 1}, tol: tol, want: 5, wantOK: true},
		"an average value of zero asks for zero": {
			metric: metric("m", avg, 10), value: 0, pods: Steady(3), tol: tol, want: 0, wantOK: true},
		"a value target scales the ready pods by the ratio": {
			metric: metric("m", val, 10), value: 30, pods: Steady(2), tol: tol, want: 6, wantOK: true},
		"a value target counts only ready pods": {
			metric: metric("m", val, 10), value: 30, pods: Pods{Replicas: 4, Existing: 4, Ready: 2}, tol: tol, want: 6, wantOK: true},
		"a value target within tolerance keeps spec replicas": {
			metric: metric("m", val, 10), value: 10.5, pods: Pods{Replicas: 7, Existing: 7, Ready: 3}, tol: tol, want: 7, wantOK: true},
		"a value target from zero replicas is the ratio alone, without tolerance": {
			metric: metric("m", val, 10), value: 10.5, pods: Steady(0), tol: tol, want: 2, wantOK: true},
		"a value target with no pods fails the metric": {
			metric: metric("m", val, 10), value: 30, pods: Pods{Replicas: 3}, tol: tol, want: 0, wantOK: false},
		"a wider scale-up tolerance keeps the count at a ratio of 1.4": {
			metric: metric("m", avg, 10), value: 14, pods: Steady(1), tol: Tolerances{Down: 0.1, Up: 0.5}, want: 1, wantOK: true},
		"a zero tolerance scales on any difference": {
			metric: metric("m", avg, 100), value: 101, pods: Steady(1), tol: Tolerances{}, want: 2, wantOK: true},
		"a narrower scale-down tolerance scales down at a ratio of 0.95": {
			metric: metric("m", avg, 10), value: 190, pods: Steady(20), tol: Tolerances{Down: 0.01, Up: 0.1}, want: 19, wantOK: true},
		"a value is served to the nearest milli": {
			metric: metric("m", avg, 0.001), value: 0.0006, pods: Steady(3), tol: tol, want: 1, wantOK: true},
		"a target is truncated to whole millis as the actuator builds it, so 5.021 at 1.005 asks for 6": {
			metric: metric("m", avg, 1.005), value: 5.021, pods: Steady(1), tol: tol, want: 6, wantOK: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Proposal(tc.metric, tc.value, tc.pods, tc.tol)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Proposal = (%d, %t), want (%d, %t)", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestMilli(t *testing.T) {
	tests := map[string]struct {
		in            float64
		value, target int64
	}{
		"a whole number is a thousand millis":                     {in: 5, value: 5000, target: 5000},
		"a decimal tenth is a hundred millis":                     {in: 0.1, value: 100, target: 100},
		"a value rounds to the nearest milli":                     {in: 1.0005, value: 1001, target: 1000},
		"a target truncates, even where binary floats fall short": {in: 1.005, value: 1005, target: 1004},
		"less than half a milli is served as zero":                {in: 0.0004, value: 0, target: 0},
		"values beyond int64 saturate":                            {in: 1e300, value: 1<<63 - 1, target: 1<<63 - 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := MilliValue(tc.in); got != tc.value {
				t.Errorf("MilliValue(%v) = %d, want %d", tc.in, got, tc.value)
			}
			if got := MilliTarget(tc.in); got != tc.target {
				t.Errorf("MilliTarget(%v) = %d, want %d", tc.in, got, tc.target)
			}
		})
	}
}

func TestTolerancesFor(t *testing.T) {
	q := resource.MustParse("0.05")
	tests := map[string]struct {
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		want     Tolerances
	}{
		"without behavior both directions use 0.1": {want: Tolerances{Down: 0.1, Up: 0.1}},
		"a scale-up tolerance replaces only the upper band": {
			behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: &q}},
			want:     Tolerances{Down: 0.1, Up: 0.05}},
		"a scale-down tolerance replaces only the lower band": {
			behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: &q}},
			want:     Tolerances{Down: 0.05, Up: 0.1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, TolerancesFor(tc.behavior)); diff != "" {
				t.Errorf("TolerancesFor (-want +got):\n%s", diff)
			}
		})
	}
}

// scenario syncs every 15 s from start; samples[i] feeds sync i and the last one repeats.
type scenario struct {
	spec    Spec
	start   int32
	samples [][]Sample
	want    []int32
}

func (s scenario) run(t *testing.T) []int32 {
	t.Helper()
	h, err := New(s.spec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	current := s.start
	got := make([]int32, len(s.want))
	for i := range s.want {
		in := s.samples[min(i, len(s.samples)-1)]
		current = h.Sync(t0.Add(time.Duration(i)*SyncPeriod), current, in).Replicas
		got[i] = current
	}
	return got
}

func TestSyncSequences(t *testing.T) {
	defaults := &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	tests := map[string]scenario{
		"default behavior grows 1, 5, 10, 20, 40, 80, 100": {
			spec: spec(1, 100, defaults), start: 1, samples: [][]Sample{value(1000)},
			want: []int32{5, 10, 20, 40, 80, 100, 100}},
		"without behavior growth is limited to max(2 x current, 4) per sync": {
			spec: spec(1, 100, nil), start: 1, samples: [][]Sample{value(1000)},
			want: []int32{4, 8, 16, 32, 64, 100, 100}},
		"from 0 to 20 replicas the burst takes 5 syncs without behavior": {
			spec: spec(1, 100, nil, metric("m", avg, 5)), start: 1, samples: [][]Sample{value(100)},
			want: []int32{4, 8, 16, 20, 20}},
		"at 0 replicas the HPA does nothing": {
			spec: spec(1, 100, nil), start: 0, samples: [][]Sample{value(1000)},
			want: []int32{0, 0, 0}},
		"without behavior scale-down holds the highest recommendation of 300 s, cutoff included": {
			// sync 20 is exactly 300 s after the first recommendation of 10, which still counts.
			spec: spec(1, 100, nil, metric("m", avg, 10)), start: 10,
			samples: [][]Sample{value(100), value(10)},
			want:    append(repeat(10, 21), 1)},
		"with behavior a recommendation exactly 300 s old has left the scale-down window": {
			spec: spec(1, 100, defaults, metric("m", avg, 10)), start: 10,
			samples: [][]Sample{value(100), value(10)},
			want:    append(repeat(10, 20), 1)},
		"a scale-up stabilization window applies the lowest recommendation inside it": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(60, "", pods(4, 15), percent(100, 15))}, metric("m", avg, 10)),
			start: 2, samples: [][]Sample{value(20), value(100)},
			want: []int32{2, 2, 2, 2, 6, 10}},
		"a Pods policy adds at most its value per period, counted from the period start": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(0, "", pods(2, 60))}),
			start: 1, samples: [][]Sample{value(1000)},
			want: []int32{3, 3, 3, 3, 5, 5, 5, 5, 7}},
		"a Percent policy grows by its share of the replicas at period start, rounded up": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(0, "", percent(50, 15))}),
			start: 4, samples: [][]Sample{value(1000)},
			want: []int32{6, 9, 14, 21}},
		"selectPolicy Max picks the most permissive scale-up policy": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(0, autoscalingv2.MaxChangePolicySelect, pods(4, 15), percent(100, 15))}),
			start: 10, samples: [][]Sample{value(1000)},
			want: []int32{20}},
		"selectPolicy Min picks the least permissive scale-up policy": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(0, autoscalingv2.MinChangePolicySelect, pods(4, 15), percent(100, 15))}),
			start: 10, samples: [][]Sample{value(1000)},
			want: []int32{14, 18}},
		"selectPolicy Disabled never scales up": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: rules(0, autoscalingv2.DisabledPolicySelect)}),
			start: 3, samples: [][]Sample{value(1000)},
			want: []int32{3, 3, 3}},
		"selectPolicy Disabled never scales down, even after the window": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(0, autoscalingv2.DisabledPolicySelect)}),
			start: 10, samples: [][]Sample{value(1)},
			want: repeat(10, 25)},
		"a Percent scale-down policy rounds down": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(0, "", percent(50, 15))}),
			start: 9, samples: [][]Sample{value(1)},
			want: []int32{4, 2, 1, 1}},
		"selectPolicy Max on scale-down picks the policy that removes most": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, pods(1, 15), percent(50, 15))}),
			start: 10, samples: [][]Sample{value(1)},
			want: []int32{5, 2, 1}},
		"selectPolicy Min on scale-down picks the policy that removes least": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(0, autoscalingv2.MinChangePolicySelect, pods(1, 15), percent(50, 15))}),
			start: 10, samples: [][]Sample{value(1)},
			want: []int32{9, 8, 7}},
		"a Pods scale-down policy removes at most its value per period": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(0, "", pods(2, 60))}),
			start: 10, samples: [][]Sample{value(1)},
			want: []int32{8, 8, 8, 8, 6}},
		"a scale-down stabilization window applies the highest recommendation inside it": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: rules(30, "")}, metric("m", avg, 10)),
			start: 8, samples: [][]Sample{value(80), value(50), value(10)},
			want: []int32{8, 8, 5, 1, 1}},
		"a per-direction tolerance holds the count inside its wider band": {
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: ptr(resource.MustParse("0.5"))}}, metric("m", avg, 10)),
			start: 10, samples: [][]Sample{value(140), value(160)},
			want: []int32{10, 16}},
		"an up event reused after the up period no longer counts toward the scale-down period start": {
			// The controller drops up events older than the longest scale-up period even though the
			// 600 s scale-down policy would still read them: from 13 it may only go to 4, not to 1.
			spec: spec(1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   rules(0, "", pods(4, 15)),
				ScaleDown: rules(0, "", pods(1, 600))}),
			start: 1, samples: [][]Sample{value(100), value(100), value(100), value(1)},
			want: []int32{5, 9, 13, 4}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.run(t)); diff != "" {
				t.Errorf("replicas per sync (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(n int32, times int) []int32 {
	out := make([]int32, times)
	for i := range out {
		out[i] = n
	}
	return out
}

func TestSyncResult(t *testing.T) {
	two := []MetricSpec{metric("a", avg, 10), metric("b", avg, 10)}
	tests := map[string]struct {
		spec    Spec
		pods    Pods
		samples []Sample
		want    Result
	}{
		"the largest proposal of several metrics wins": {
			spec: spec(1, 100, nil, two...), pods: Steady(4), samples: []Sample{{Value: 30}, {Value: 70}},
			want: Result{Replicas: 7, Rescaled: true, Proposal: 7, Metric: "b", Condition: DesiredWithinRange}},
		"a failed metric is skipped when the others scale up": {
			spec: spec(1, 100, nil, two...), pods: Steady(4), samples: []Sample{{Failed: true}, {Value: 70}},
			want: Result{Replicas: 7, Rescaled: true, Proposal: 7, Metric: "b", Condition: DesiredWithinRange}},
		"a failed metric blocks a scale-down": {
			spec: spec(1, 100, nil, two...), pods: Steady(4), samples: []Sample{{Failed: true}, {Value: 10}},
			want: Result{Replicas: 4, Condition: FailedGetExternalMetric}},
		"a missing sample counts as a failed metric": {
			spec: spec(1, 100, nil, two...), pods: Steady(4), samples: []Sample{{Value: 70}},
			want: Result{Replicas: 7, Rescaled: true, Proposal: 7, Metric: "a", Condition: DesiredWithinRange}},
		"every metric failing keeps the count": {
			spec: spec(1, 100, nil, two...), pods: Steady(4), samples: []Sample{{Failed: true}, {Failed: true}},
			want: Result{Replicas: 4, Condition: FailedGetExternalMetric}},
		"zero replicas disable scaling": {
			spec: spec(1, 100, nil), pods: Steady(0), samples: value(50),
			want: Result{Replicas: 0, Condition: ScalingDisabled}},
		"replicas above maxReplicas are brought to max without reading metrics": {
			spec: spec(1, 5, nil), pods: Steady(9), samples: []Sample{{Failed: true}},
			want: Result{Replicas: 5, Rescaled: true, Condition: AboveMaxReplicas}},
		"replicas below minReplicas are raised to min without reading metrics": {
			spec: spec(3, 5, nil), pods: Steady(1), samples: []Sample{{Failed: true}},
			want: Result{Replicas: 3, Rescaled: true, Condition: BelowMinReplicas}},
		"a proposal below minReplicas is raised to min": {
			spec: spec(3, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, "")}),
			pods: Steady(5), samples: value(0),
			want: Result{Replicas: 3, Rescaled: true, Proposal: 0, Metric: "s0-queue", Condition: TooFewReplicas}},
		"without behavior the first recommendation is the current count and holds a scale-down": {
			spec: spec(3, 10, nil), pods: Steady(5), samples: value(0),
			want: Result{Replicas: 5, Proposal: 0, Metric: "s0-queue", Condition: ScaleDownStabilized}},
		"a proposal above maxReplicas is capped at max": {
			spec: spec(1, 10, nil), pods: Steady(8), samples: value(50),
			want: Result{Replicas: 10, Rescaled: true, Proposal: 50, Metric: "s0-queue", Condition: TooManyReplicas}},
		"a proposal beyond 2 x current is capped by the scale-up limit": {
			spec: spec(1, 100, nil), pods: Steady(3), samples: value(50),
			want: Result{Replicas: 6, Rescaled: true, Proposal: 50, Metric: "s0-queue", Condition: ScaleUpLimit}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, err := New(tc.spec)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(tc.want, h.SyncPods(t0, tc.pods, tc.samples)); diff != "" {
				t.Errorf("SyncPods (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCloneKeepsHistoryApart(t *testing.T) {
	h, err := New(spec(1, 100, nil, metric("m", avg, 10)))
	if err != nil {
		t.Fatal(err)
	}
	h.Sync(t0, 10, value(100))
	c := h.Clone()
	c.Sync(t0.Add(SyncPeriod), 10, value(500)) // a recommendation of 50 only the clone remembers
	if got := h.Sync(t0.Add(2*SyncPeriod), 10, value(10)).Replicas; got != 10 {
		t.Errorf("original after a drop = %d, want 10 (held by its own window)", got)
	}
	if got := c.Sync(t0.Add(2*SyncPeriod), 10, value(10)).Replicas; got != 20 {
		t.Errorf("clone after a drop = %d, want 20 (its 50 held, limited to 2 x 10)", got)
	}
}

func TestNewRejectsInvalidSpecs(t *testing.T) {
	zero := int32(0)
	bad := autoscalingv2.ScalingPolicySelect("Fastest")
	tests := map[string]struct {
		spec Spec
		want string
	}{
		"minReplicas 0 is outside the model": {
			spec: spec(0, 10, nil), want: "spec.minReplicas"},
		"maxReplicas below minReplicas": {
			spec: spec(5, 4, nil), want: "spec.maxReplicas"},
		"no metrics": {
			spec: Spec{MinReplicas: 1, MaxReplicas: 2}, want: "spec.metrics"},
		"a zero target": {
			spec: spec(1, 2, nil, metric("m", avg, 0)), want: "spec.metrics[0].external.target"},
		"a Utilization target on an external metric": {
			spec: spec(1, 2, nil, metric("m", autoscalingv2.UtilizationMetricType, 1)), want: "spec.metrics[0].external.target.type"},
		"an empty policy list": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, "", []autoscalingv2.HPAScalingPolicy{}...)}),
			want: "spec.behavior.scaleUp.policies"},
		"a policy with a zero period": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, "", pods(1, 0))}),
			want: "spec.behavior.scaleDown.policies[0].periodSeconds"},
		"a policy with a zero value": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, "", pods(0, 15))}),
			want: "spec.behavior.scaleDown.policies[0].value"},
		"an unknown selectPolicy": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: &bad}}),
			want: "spec.behavior.scaleUp.selectPolicy"},
		"a stabilization window over an hour": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(3601, "", pods(1, 15))}),
			want: "spec.behavior.scaleUp.stabilizationWindowSeconds"},
		"a negative tolerance": {
			spec: spec(1, 2, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: &zero, Tolerance: ptr(resource.MustParse("-0.1"))}}),
			want: "spec.behavior.scaleUp.tolerance"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestNewDefaultsBehaviorWithoutTouchingTheCallersSpec(t *testing.T) {
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(30, "")}
	b.ScaleUp.Policies = nil
	h, err := New(spec(1, 10, b))
	if err != nil {
		t.Fatal(err)
	}
	got := h.Spec().Behavior
	want := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   rules(30, autoscalingv2.MaxChangePolicySelect, pods(4, 15), percent(100, 15)),
		ScaleDown: rules(300, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaulted behavior (-want +got):\n%s", diff)
	}
	if b.ScaleUp.SelectPolicy != nil || b.ScaleDown != nil {
		t.Errorf("caller's behavior was modified: %+v", b)
	}
}
