package simulate

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"ebb.dev/services/decider/decide"
)

func queueObject(opts ...func(*decide.Spec)) decide.Spec {
	s := decide.Spec{Max: 100, Cooldown: time.Minute, Triggers: []decide.Trigger{{Name: "orders", Metric: "s0-rabbitmq-orders", Target: 5}}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func steps(t *testing.T, jsonl string) []Step {
	t.Helper()
	s, err := ReadTimeline(strings.NewReader(jsonl))
	if err != nil {
		t.Fatalf("ReadTimeline: %v", err)
	}
	return s
}

// counts is the replica count after each instant at which it changed.
func counts(r *Run) []int32 {
	var out []int32
	for _, e := range r.Events {
		if len(out) == 0 || out[len(out)-1] != e.Replicas {
			out = append(out, e.Replicas)
		}
	}
	return out
}

func TestObjectScenarios(t *testing.T) {
	tests := map[string]struct {
		spec     decide.Spec
		timeline string
		opts     Options
		want     []int32
	}{
		"a burst of 100 at target 5 goes 0, 1, then 4, 8, 16, 20 by the HPA, and back to 0": {
			spec:     queueObject(),
			timeline: `{"at":"0s","values":{"orders":100}}` + "\n" + `{"at":"2m","values":{"orders":0}}`,
			opts:     Options{PollingInterval: 10 * time.Second},
			want:     []int32{1, 4, 8, 16, 20, 0},
		},
		"with default behavior the HPA grows 1, 5, 10, 20, 40": {
			spec: queueObject(func(s *decide.Spec) { s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{} }),
			timeline: `{"at":"0s","values":{"orders":200}}` + "\n" +
				`{"at":"2m","values":{"orders":0}}`,
			opts: Options{PollingInterval: 10 * time.Second},
			want: []int32{1, 5, 10, 20, 40, 0},
		},
		"a failing source with a fallback serves fallback replicas, then recovers": {
			spec: queueObject(func(s *decide.Spec) {
				s.Min = 1
				s.Fallback = &decide.Fallback{FailureThreshold: 1, Replicas: 3}
			}),
			timeline: `{"at":"0s","values":{"orders":50}}` + "\n" + `{"at":"2m","errors":["orders"]}` + "\n" + `{"at":"4m","values":{"orders":5}}`,
			opts:     Options{PollingInterval: 30 * time.Second, Duration: 10 * time.Minute},
			want:     []int32{1, 4, 8, 10, 3, 1},
		},
		"paused-replicas holds the count against any reading": {
			spec: queueObject(func(s *decide.Spec) {
				n := int32(2)
				s.Pause.Replicas = &n
			}),
			timeline: `{"at":"0s","values":{"orders":500}}`,
			want:     []int32{2},
		},
		"starting at 3 replicas never active, the initial cooldown ends at creation and the next poll scales to 0": {
			spec:     queueObject(),
			timeline: `{"at":"0s","values":{"orders":0}}`,
			opts:     Options{Replicas: 3},
			want:     []int32{3, 0},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Object(tc.spec, steps(t, tc.timeline), tc.opts)
			if err != nil {
				t.Fatalf("Object: %v", err)
			}
			if diff := cmp.Diff(tc.want, counts(r)); diff != "" {
				t.Errorf("replica counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObjectCountsFailuresPerPoll(t *testing.T) {
	r, err := Object(queueObject(), steps(t, `{"at":"0s","errors":["orders"]}`+"\n"+`{"at":"1m","values":{"orders":1}}`),
		Options{PollingInterval: 20 * time.Second, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	for _, e := range r.Events {
		if e.Kind == KindPoll {
			got = append(got, e.Readings[0].Failures)
		}
	}
	if diff := cmp.Diff([]int32{1, 2, 3, 0}, got); diff != "" {
		t.Errorf("failures per poll (-want +got):\n%s", diff)
	}
}

func TestObjectPodStartDelaysReadiness(t *testing.T) {
	spec := queueObject(func(s *decide.Spec) {
		s.Triggers[0].MetricType = autoscalingv2.ValueMetricType
		s.Triggers[0].Target = 10
	})
	r, err := Object(spec, steps(t, `{"at":"0s","values":{"orders":40}}`),
		Options{PollingInterval: 15 * time.Second, PodStart: 40 * time.Second, Duration: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		At              Offset
		Replicas, Ready int32
	}
	var got []point
	for _, e := range r.Events {
		if e.Kind == KindHPA {
			got = append(got, point{e.At, e.Replicas, e.Ready})
		}
	}
	// A Value target multiplies the ready pods by value / target (4) at every sync: with no pod
	// ready before 40 s the proposal is 0 and min holds 1; then 4 × 1 ready = 4; only once those
	// 4 are ready does it grow again, to 16 limited to 2 × 4.
	want := []point{
		{0, 1, 0}, {Offset(15 * time.Second), 1, 0}, {Offset(30 * time.Second), 1, 0},
		{Offset(45 * time.Second), 4, 1}, {Offset(60 * time.Second), 4, 1}, {Offset(75 * time.Second), 4, 1},
		{Offset(90 * time.Second), 8, 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replicas and ready pods at each HPA sync (-want +got):\n%s", diff)
	}
}

func TestJobCreatedJobsCountAsRunning(t *testing.T) {
	spec := decide.JobSpec{Max: 10, Triggers: []decide.Trigger{{Name: "q", Metric: "s0-q", Target: 1}}}
	r, err := Job(spec, steps(t, `{"at":"0s","values":{"q":4}}`+"\n"+`{"at":"1m","values":{"q":0},"running":0}`),
		Options{PollingInterval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int32
	for _, e := range r.Events {
		got = append(got, [2]int32{e.Jobs.Create, e.Jobs.Running})
	}
	if diff := cmp.Diff([][2]int32{{4, 0}, {0, 4}, {0, 0}, {0, 0}, {0, 0}}, got); diff != "" {
		t.Errorf("(create, running) per poll (-want +got):\n%s", diff)
	}
}

func TestReadTimelineAcceptsSecondsAndSkipsComments(t *testing.T) {
	got := steps(t, "# a comment\n\n{\"at\": 90, \"values\": {\"0\": 1.5}}\n{\"at\": \"2m\", \"running\": 3}\n")
	three := int32(3)
	want := []Step{
		{At: Offset(90 * time.Second), Values: map[string]float64{"0": 1.5}, Line: 3},
		{At: Offset(2 * time.Minute), Running: &three, Line: 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadTimeline (-want +got):\n%s", diff)
	}
}
