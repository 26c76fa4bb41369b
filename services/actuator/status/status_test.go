package status

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

var (
	deployment = &v1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments"}
	t0         = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

func cond(t v1alpha1.ConditionType, s metav1.ConditionStatus, reason string) v1alpha1.Condition {
	return v1alpha1.Condition{Type: t, Status: s, Reason: reason}
}

// reasons drops messages so cases compare what callers act on: type, status, reason.
func reasons(c v1alpha1.Conditions) v1alpha1.Conditions {
	out := v1alpha1.Conditions{}
	for _, x := range c {
		out = append(out, cond(x.Type, x.Status, x.Reason))
	}
	return out
}

func so(annotations map[string]string, triggers ...v1alpha1.ScaleTriggers) *v1alpha1.ScaledObject {
	return &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", Annotations: annotations},
		Spec:       v1alpha1.ScaledObjectSpec{ScaleTargetRef: &v1alpha1.ScaleTarget{Name: "consumer"}, Triggers: triggers},
	}
}

func hpaWith(name string, metrics ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Metrics: metrics}}
}

func external(name string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: name}}}
}

func TestScaledObject(t *testing.T) {
	rabbit := v1alpha1.ScaleTriggers{Type: "rabbitmq", AuthenticationRef: &v1alpha1.AuthenticationRef{Name: "rabbit-auth"}}
	kafka := v1alpha1.ScaleTriggers{Type: "kafka", AuthenticationRef: &v1alpha1.AuthenticationRef{Name: "rabbit-auth"}}
	cpu := v1alpha1.ScaleTriggers{Type: "cpu"}
	metrics := []autoscalingv2.MetricSpec{
		external("s0-rabbitmq-orders"),
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU}},
		{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceMemory, Container: "app"}},
	}
	tests := map[string]struct {
		before v1alpha1.ScaledObjectStatus
		so     *v1alpha1.ScaledObject
		facts  Facts
		want   v1alpha1.ScaledObjectStatus
	}{
		"first take-over records the target, the original replicas, names and Ready": {
			so:    so(nil, rabbit, kafka, cpu),
			facts: Facts{Target: deployment, Replicas: new(int32(3)), HPA: hpaWith("keda-hpa-orders", metrics...)},
			want: v1alpha1.ScaledObjectStatus{
				ScaleTargetKind: "apps/v1.Deployment", ScaleTargetGVKR: deployment, OriginalReplicaCount: new(int32(3)),
				HPAName: "keda-hpa-orders", ExternalMetricNames: []string{"s0-rabbitmq-orders"}, ResourceMetricNames: []string{"cpu", "memory"},
				TriggersTypes: new("rabbitmq,kafka,cpu"), AuthenticationsTypes: new("rabbit-auth"),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledObjectReady),
					cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledObjectRunning),
				},
			},
		},
		"the original replica count is never overwritten": {
			before: v1alpha1.ScaledObjectStatus{OriginalReplicaCount: new(int32(7))},
			so:     so(nil, cpu),
			facts:  Facts{Target: deployment, Replicas: new(int32(1))},
			want: v1alpha1.ScaledObjectStatus{
				ScaleTargetKind: "apps/v1.Deployment", ScaleTargetGVKR: deployment, OriginalReplicaCount: new(int32(7)), TriggersTypes: new("cpu"),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledObjectReady),
					cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledObjectRunning),
				},
			},
		},
		"paused-replicas is reported with the Paused condition; decision fields stay": {
			before: v1alpha1.ScaledObjectStatus{
				LastActiveTime: &metav1.Time{Time: t0},
				Conditions:     v1alpha1.Conditions{cond(v1alpha1.ConditionActive, metav1.ConditionTrue, ReasonActive)},
			},
			so:    so(nil, cpu),
			facts: Facts{Pause: Pause{Replicas: new(int32(2))}},
			want: v1alpha1.ScaledObjectStatus{
				LastActiveTime: &metav1.Time{Time: t0}, TriggersTypes: new("cpu"), PausedReplicaCount: new(int32(2)),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionActive, metav1.ConditionTrue, ReasonActive),
					cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledObjectReady),
					cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionPaused, metav1.ConditionTrue, ReasonScaledObjectPaused),
				},
			},
		},
		"unpausing clears pausedReplicaCount": {
			before: v1alpha1.ScaledObjectStatus{PausedReplicaCount: new(int32(2))},
			so:     so(nil, cpu),
			facts:  Facts{},
			want: v1alpha1.ScaledObjectStatus{
				TriggersTypes: new("cpu"),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledObjectReady),
					cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledObjectRunning),
				},
			},
		},
		"a problem makes Ready False with its reason": {
			so:    so(nil, rabbit),
			facts: Facts{Problem: &Problem{Reason: ReasonTargetNotFound, Message: "deployments.apps consumer not found"}},
			want: v1alpha1.ScaledObjectStatus{
				TriggersTypes: new("rabbitmq"), AuthenticationsTypes: new("rabbit-auth"),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonTargetNotFound),
					cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
					cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledObjectRunning),
				},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ScaledObject(tc.before, tc.so, tc.facts)
			got.Conditions = reasons(got.Conditions)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ScaledObject (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScaledObjectIsStable(t *testing.T) {
	o := so(map[string]string{v1alpha1.PausedAnnotation: "true"}, v1alpha1.ScaleTriggers{Type: "cpu"})
	f := Facts{Target: deployment, Replicas: new(int32(3)), HPA: hpaWith("h", external("s0-x")), Pause: Pause{Hold: true}}
	once := ScaledObject(v1alpha1.ScaledObjectStatus{}, o, f)
	if diff := cmp.Diff(once, ScaledObject(once, o, f)); diff != "" {
		t.Errorf("second pass changed the status, so the reconciler would write on every pass (-first +second):\n%s", diff)
	}
}

func TestScaledJob(t *testing.T) {
	sj := &v1alpha1.ScaledJob{Spec: v1alpha1.ScaledJobSpec{Triggers: []v1alpha1.ScaleTriggers{{Type: "rabbitmq"}, {Type: "rabbitmq"}}}}
	tests := map[string]struct {
		pause   Pause
		problem *Problem
		want    v1alpha1.ScaledJobStatus
	}{
		"ready and running": {
			want: v1alpha1.ScaledJobStatus{TriggersTypes: new("rabbitmq"), Conditions: v1alpha1.Conditions{
				cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledJobReady),
				cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
				cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
				cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledJobRunning),
			}},
		},
		"paused and failing its check": {
			pause:   Pause{Hold: true},
			problem: &Problem{Reason: ReasonScaledJobFailed, Message: "bad"},
			want: v1alpha1.ScaledJobStatus{TriggersTypes: new("rabbitmq"), Paused: "true", Conditions: v1alpha1.Conditions{
				cond(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonScaledJobFailed),
				cond(v1alpha1.ConditionActive, metav1.ConditionUnknown, "Unknown"),
				cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
				cond(v1alpha1.ConditionPaused, metav1.ConditionTrue, ReasonScaledJobPaused),
			}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ScaledJob(v1alpha1.ScaledJobStatus{}, sj, tc.pause, tc.problem)
			got.Conditions = reasons(got.Conditions)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ScaledJob (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPause(t *testing.T) {
	tests := map[string]struct {
		annotations map[string]string
		want        Pause
		wantErr     bool
	}{
		"no annotations":               {want: Pause{}},
		"paused true holds":            {annotations: map[string]string{v1alpha1.PausedAnnotation: "true"}, want: Pause{Hold: true}},
		"paused false does not":        {annotations: map[string]string{v1alpha1.PausedAnnotation: "false"}, want: Pause{}},
		"paused-replicas sets a count": {annotations: map[string]string{v1alpha1.PausedReplicasAnnotation: "0"}, want: Pause{Replicas: new(int32(0))}},
		"paused-replicas wins over paused": {
			annotations: map[string]string{v1alpha1.PausedReplicasAnnotation: "4", v1alpha1.PausedAnnotation: "true"},
			want:        Pause{Replicas: new(int32(4))},
		},
		"a negative count is an error": {annotations: map[string]string{v1alpha1.PausedReplicasAnnotation: "-1"}, wantErr: true},
		"a word is an error":           {annotations: map[string]string{v1alpha1.PausedReplicasAnnotation: "two"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadPause(tc.annotations)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ReadPause error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadPause (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecided(t *testing.T) {
	activeCond := cond(v1alpha1.ConditionActive, metav1.ConditionTrue, ReasonActive)
	inactiveCond := cond(v1alpha1.ConditionActive, metav1.ConditionFalse, ReasonNotActive)
	noFallback := cond(v1alpha1.ConditionFallback, metav1.ConditionFalse, ReasonNoFallback)
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledObjectReady)
	running := cond(v1alpha1.ConditionPaused, metav1.ConditionFalse, ReasonScaledObjectRunning)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }
	decision := func(active bool, decidedAt time.Duration, metrics ...msg.MetricValue) msg.Decision {
		return msg.Decision{Active: active, DecidedAt: t0.Add(decidedAt), Metrics: metrics}
	}
	happy := msg.MetricValue{Name: "s0-rabbitmq-orders", Value: 10}
	tests := map[string]struct {
		before     v1alpha1.ScaledObjectStatus
		d          msg.Decision
		lastActive time.Duration // since t0; 0 means none seen
		want       v1alpha1.ScaledObjectStatus
	}{
		"becoming active records the time, Active and healthy metrics": {
			before: v1alpha1.ScaledObjectStatus{Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
			d:      decision(true, 1500*time.Millisecond, happy),
			want: v1alpha1.ScaledObjectStatus{
				LastActiveTime: at(time.Second),
				Conditions:     v1alpha1.Conditions{ready, activeCond, noFallback, running},
				Health:         map[string]v1alpha1.HealthStatus{"s0-rabbitmq-orders": {NumberOfFailures: new(int32(0)), Status: v1alpha1.HealthStatusHappy}},
			},
		},
		"staying active inside the resolution does not move lastActiveTime": {
			before: v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, activeCond, noFallback, running}},
			d:      decision(true, 59*time.Second),
			want:   v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, activeCond, noFallback, running}},
		},
		"staying active past the resolution moves it": {
			before: v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, activeCond, noFallback, running}},
			d:      decision(true, time.Minute),
			want:   v1alpha1.ScaledObjectStatus{LastActiveTime: at(time.Minute), Conditions: v1alpha1.Conditions{ready, activeCond, noFallback, running}},
		},
		"becoming inactive records the last active decision's time": {
			before:     v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, activeCond, noFallback, running}},
			d:          decision(false, 40*time.Second),
			lastActive: 30 * time.Second,
			want:       v1alpha1.ScaledObjectStatus{LastActiveTime: at(30 * time.Second), Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
		},
		"inactive with no active decision seen keeps what is recorded": {
			before: v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
			d:      decision(false, time.Hour),
			want:   v1alpha1.ScaledObjectStatus{LastActiveTime: at(0), Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
		},
		"a failing metric in fallback is Failing with its count, and Fallback is True": {
			d: decision(true, 0, happy, msg.MetricValue{Name: "s1-kafka-pay", Value: 50, Fallback: true, Failures: 4}),
			want: v1alpha1.ScaledObjectStatus{
				LastActiveTime: at(0),
				Conditions: v1alpha1.Conditions{
					cond(v1alpha1.ConditionReady, metav1.ConditionUnknown, "Unknown"), activeCond,
					cond(v1alpha1.ConditionFallback, metav1.ConditionTrue, ReasonFallback),
					cond(v1alpha1.ConditionPaused, metav1.ConditionUnknown, "Unknown"),
				},
				Health: map[string]v1alpha1.HealthStatus{
					"s0-rabbitmq-orders": {NumberOfFailures: new(int32(0)), Status: v1alpha1.HealthStatusHappy},
					"s1-kafka-pay":       {NumberOfFailures: new(int32(4)), Status: v1alpha1.HealthStatusFailing},
				},
			},
		},
		"a metric with an error and no fallback is Failing": {
			before: v1alpha1.ScaledObjectStatus{Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
			d:      decision(false, 0, msg.MetricValue{Name: "s0-rabbitmq-orders", Error: "connection refused", Failures: 1}),
			want: v1alpha1.ScaledObjectStatus{
				Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running},
				Health:     map[string]v1alpha1.HealthStatus{"s0-rabbitmq-orders": {NumberOfFailures: new(int32(1)), Status: v1alpha1.HealthStatusFailing}},
			},
		},
		"trigger activity comes from the decision's readings": {
			before: v1alpha1.ScaledObjectStatus{Conditions: v1alpha1.Conditions{ready, inactiveCond, noFallback, running}},
			d: msg.Decision{Active: false, DecidedAt: t0, Inputs: []msg.Reading{
				{Trigger: msg.TriggerRef{MetricName: "s0-rabbitmq-orders"}, Active: false},
				{Trigger: msg.TriggerRef{Index: 1, MetricName: "s1-cron"}, Active: true},
			}},
			want: v1alpha1.ScaledObjectStatus{
				Conditions:       v1alpha1.Conditions{ready, inactiveCond, noFallback, running},
				TriggersActivity: map[string]v1alpha1.TriggerActivityStatus{"s0-rabbitmq-orders": {}, "s1-cron": {IsActive: true}},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var last time.Time
			if tc.lastActive != 0 {
				last = t0.Add(tc.lastActive)
			}
			got := Decided(tc.before, tc.d, ActivityOf(tc.d, last, time.Minute))
			got.Conditions = reasons(got.Conditions)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decided (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobDecided(t *testing.T) {
	before := v1alpha1.ScaledJobStatus{LastActiveTime: &metav1.Time{Time: t0}}
	got := JobDecided(before, ActivityOf(msg.Decision{Active: true, DecidedAt: t0.Add(10 * time.Second)}, time.Time{}, time.Minute))
	got.Conditions = reasons(got.Conditions)
	want := v1alpha1.ScaledJobStatus{
		LastActiveTime: &metav1.Time{Time: t0.Add(10 * time.Second)}, // the Active condition flipped from Unknown
		Conditions: v1alpha1.Conditions{
			cond(v1alpha1.ConditionReady, metav1.ConditionUnknown, "Unknown"),
			cond(v1alpha1.ConditionActive, metav1.ConditionTrue, ReasonActive),
			cond(v1alpha1.ConditionFallback, metav1.ConditionUnknown, "Unknown"),
			cond(v1alpha1.ConditionPaused, metav1.ConditionUnknown, "Unknown"),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JobDecided (-want +got):\n%s", diff)
	}
}

func TestTransitions(t *testing.T) {
	failing := v1alpha1.HealthStatus{Status: v1alpha1.HealthStatusFailing}
	happy := v1alpha1.HealthStatus{Status: v1alpha1.HealthStatusHappy}
	got := NewlyFailing(map[string]v1alpha1.HealthStatus{"a": failing, "b": happy}, map[string]v1alpha1.HealthStatus{"a": failing, "b": failing, "c": failing, "d": happy})
	if diff := cmp.Diff([]string{"b", "c"}, got); diff != "" {
		t.Errorf("NewlyFailing (-want +got):\n%s", diff)
	}
	off := v1alpha1.Conditions{cond(v1alpha1.ConditionFallback, metav1.ConditionFalse, ReasonNoFallback)}
	on := v1alpha1.Conditions{cond(v1alpha1.ConditionFallback, metav1.ConditionTrue, ReasonFallback)}
	for name, tc := range map[string]struct {
		before, after v1alpha1.Conditions
		want          bool
	}{
		"False to True":   {before: off, after: on, want: true},
		"True stays True": {before: on, after: on},
		"absent to True":  {after: on, want: true},
		"True to False":   {before: on, after: off},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Became(tc.before, tc.after, v1alpha1.ConditionFallback, metav1.ConditionTrue); got != tc.want {
				t.Errorf("Became = %v, want %v", got, tc.want)
			}
		})
	}
}
