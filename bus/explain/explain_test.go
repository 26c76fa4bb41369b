package explain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/bus/explain"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

var t0 = msgtest.T0

// scaledObject is orders/consumer as the cluster holds it: one rabbitmq trigger with target 5
// and activation 2, max 30, everything else defaulted.
func scaledObject(edits ...func(*v1alpha1.ScaledObject)) *v1alpha1.ScaledObject {
	so := &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "orders", Name: "consumer", Generation: 2},
		Spec: v1alpha1.ScaledObjectSpec{
			ScaleTargetRef:  &v1alpha1.ScaleTarget{Name: "consumer"},
			MaxReplicaCount: count(30),
			Triggers: []v1alpha1.ScaleTriggers{{Type: "rabbitmq", Metadata: map[string]string{
				"queueName": "orders", "value": "5", "activationValue": "2",
			}}},
		},
	}
	for _, e := range edits {
		e(so)
	}
	return so
}

func count(n int32) *int32 { return &n }

func fallback(threshold, replicas int32) func(*v1alpha1.ScaledObject) {
	return func(so *v1alpha1.ScaledObject) {
		so.Spec.Fallback = &v1alpha1.Fallback{FailureThreshold: threshold, Replicas: replicas}
	}
}

// evidence is what the bus holds after d: its inputs as the last readings.
func evidence(d msg.Decision, so *v1alpha1.ScaledObject) explain.Evidence {
	e := explain.Evidence{Object: d.Object, Readings: d.Inputs, Decision: &d, Actions: []msg.Action{msgtest.Action()}}
	if so != nil {
		e.Cluster = explain.Cluster{Read: true, ScaledObject: so}
	}
	return e
}

func edit[T any](v T, f func(*T)) T {
	f(&v)
	return v
}

func TestNext(t *testing.T) {
	cooldownEnd := t0.Add(5 * time.Minute)
	failing := msgtest.FailingDecision()
	inFallback := edit(msgtest.FailingDecision(), func(d *msg.Decision) {
		d.Reason, d.Active, d.DesiredReplicas = msg.ReasonFallback, true, 6
		d.Metrics = []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: 30, Fallback: true, Failures: 4}}
	})
	atZero := edit(msgtest.CooldownDecision(), func(d *msg.Decision) {
		d.Reason, d.DesiredReplicas, d.CurrentReplicas, d.NextChangeAt = msg.ReasonDeactivate, 0, 0, time.Time{}
	})
	tests := map[string]struct {
		e    explain.Evidence
		want []explain.Change
	}{
		"cooldown: scales to zero at its end unless the reading exceeds the spec's activation": {
			e:    evidence(msgtest.CooldownDecision(), scaledObject()),
			want: []explain.Change{{Do: "scales to 0", At: cooldownEnd, Unless: "unless a reading of s0-rabbitmq-orders exceeds 2"}},
		},
		"cooldown without the cluster: zero or idle, threshold unknown": {
			e:    evidence(msgtest.CooldownDecision(), nil),
			want: []explain.Change{{Do: "scales to 0 (or idleReplicaCount)", At: cooldownEnd, Unless: "unless a reading exceeds its activation threshold"}},
		},
		"cooldown to idleReplicaCount": {
			e: evidence(msgtest.CooldownDecision(), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.IdleReplicaCount, so.Spec.MinReplicaCount = count(0), count(2)
			})),
			want: []explain.Change{{Do: "scales to idleReplicaCount 0", At: cooldownEnd, Unless: "unless a reading of s0-rabbitmq-orders exceeds 2"}},
		},
		"cooldown from a decider without nextChangeAt: lastActiveTime + cooldownPeriod": {
			e: evidence(edit(msgtest.CooldownDecision(), func(d *msg.Decision) { d.NextChangeAt = time.Time{} }), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.CooldownPeriod = count(60)
				so.Status.LastActiveTime = &metav1.Time{Time: t0}
			})),
			want: []explain.Change{{Do: "scales to 0", At: t0.Add(time.Minute), Unless: "unless a reading of s0-rabbitmq-orders exceeds 2"}},
		},
		"cooldown with nothing to say when": {
			e:    evidence(edit(msgtest.CooldownDecision(), func(d *msg.Decision) { d.NextChangeAt = time.Time{} }), nil),
			want: []explain.Change{{Do: "scales to 0 (or idleReplicaCount) once the cooldown has passed since the last active reading", Unless: "unless a reading exceeds its activation threshold"}},
		},
		"cooldown with a scalingModifiers formula": {
			e: evidence(msgtest.CooldownDecision(), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue", Target: "5", ActivationTarget: "3"}}
			})),
			want: []explain.Change{{Do: "scales to 0", At: cooldownEnd, Unless: "unless the scalingModifiers formula exceeds its activationTarget 3"}},
		},
		"active between 1 and max: the HPA decides, zero after the cooldown": {
			e: evidence(msgtest.Decision(), scaledObject()),
			want: []explain.Change{
				{Do: "the HPA decides between 1 and 30; from the values served now it goes to 20"},
				{Do: "scales to 0 300s after the last active reading", Unless: "once s0-rabbitmq-orders is at or below 2"},
			},
		},
		"active without the cluster": {
			e: evidence(msgtest.Decision(), nil),
			want: []explain.Change{
				{Do: "the HPA decides between max(minReplicaCount, 1) and maxReplicaCount; from the values served now it goes to 20"},
				{Do: "scales to 0 (or idleReplicaCount; never below minReplicaCount) a cooldownPeriod after the last active reading", Unless: "once every reading is at or below its activation threshold"},
			},
		},
		"active with minReplicaCount above zero": {
			e: evidence(msgtest.Decision(), scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.MinReplicaCount = count(2) })),
			want: []explain.Change{
				{Do: "the HPA decides between 2 and 30; from the values served now it goes to 20"},
				{Do: "never goes below minReplicaCount 2, active or not"},
			},
		},
		"forced active": {
			e: evidence(msgtest.Decision(), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{v1alpha1.ForceActivationAnnotation: "true"}
			})),
			want: []explain.Change{
				{Do: "the HPA decides between 1 and 30; from the values served now it goes to 20"},
				{Do: "stays active: force-activation is set"},
			},
		},
		"failing, two failures of a threshold of three": {
			e: evidence(failing, scaledObject(fallback(3, 6))),
			want: []explain.Change{
				{Do: "stays at 3: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", Unless: "until every trigger reads again"},
				{Do: "fallback engages for s0-rabbitmq-orders after 2 more failed polls (failureThreshold 3), serving 6 replicas' worth", Unless: "unless it reads again"},
			},
		},
		"failing, one poll from fallback": {
			e: evidence(failing, scaledObject(fallback(2, 6))),
			want: []explain.Change{
				{Do: "stays at 3: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", Unless: "until every trigger reads again"},
				{Do: "fallback engages for s0-rabbitmq-orders after 1 more failed poll (failureThreshold 2), serving 6 replicas' worth", Unless: "unless it reads again"},
			},
		},
		"failing without a fallback": {
			e: evidence(failing, scaledObject()),
			want: []explain.Change{
				{Do: "stays at 3: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", Unless: "until every trigger reads again"},
				{Do: "s0-rabbitmq-orders has failed 2 polls in a row; no fallback is set, so the HPA gets an error for it and the object is never scaled to zero on it", Unless: "until it reads again"},
			},
		},
		"failing on a Value metric": {
			e: evidence(edit(msgtest.FailingDecision(), func(d *msg.Decision) { d.Inputs[0].Target.Type = msg.Value }), scaledObject(fallback(3, 6))),
			want: []explain.Change{
				{Do: "stays at 3: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", Unless: "until every trigger reads again"},
				{Do: "s0-rabbitmq-orders has failed 2 polls in a row; fallback applies to AverageValue metrics only, this one is Value"},
			},
		},
		"failing without the cluster": {
			e: evidence(failing, nil),
			want: []explain.Change{
				{Do: "stays at 3: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", Unless: "until every trigger reads again"},
				{Do: "s0-rabbitmq-orders has failed 2 polls in a row; whether and when fallback engages is not known without -kubeconfig"},
			},
		},
		"in fallback": {
			e: evidence(inFallback, scaledObject(fallback(3, 6))),
			want: []explain.Change{
				{Do: "the HPA decides between 1 and 30; from the values served now it goes to 6"},
				{Do: "scales to 0 300s after the last active reading", Unless: "once s0-rabbitmq-orders is at or below 2"},
				{Do: "s0-rabbitmq-orders is served its fallback value", Unless: "until it reads again"},
			},
		},
		"at zero": {
			e:    evidence(atZero, scaledObject()),
			want: []explain.Change{{Do: "stays at 0", Unless: "until a reading of s0-rabbitmq-orders exceeds 2, then scales to 1"}},
		},
		"scaling to zero": {
			e: evidence(edit(atZero, func(d *msg.Decision) { d.CurrentReplicas = 4 }), scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.MinReplicaCount = count(0) })),
			want: []explain.Change{
				{Do: "scales from 4 to 0: the cooldown is over"},
				{Do: "stays at 0", Unless: "until a reading of s0-rabbitmq-orders exceeds 2, then scales to 1"},
			},
		},
		"at zero, two triggers": {
			e: evidence(atZero, scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers = append(so.Spec.Triggers, v1alpha1.ScaleTriggers{Type: "kafka", Metadata: map[string]string{
					"bootstrapServers": "kafka:9092", "consumerGroup": "g", "topic": "payments", "activationLagThreshold": "10",
				}})
			})),
			want: []explain.Change{{Do: "stays at 0", Unless: "until a reading exceeds its activation threshold (s0-rabbitmq-orders > 2, s1-kafka-payments > 10), then scales to 1"}},
		},
		"a cpu trigger is never polled and has no threshold": {
			e: evidence(atZero, scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers = append(so.Spec.Triggers, v1alpha1.ScaleTriggers{Type: "cpu", MetricType: "Utilization", Metadata: map[string]string{"value": "50"}})
			})),
			want: []explain.Change{{Do: "stays at 0", Unless: "until a reading of s0-rabbitmq-orders exceeds 2, then scales to 1"}},
		},
		"activating": {
			e: evidence(edit(msgtest.Decision(), func(d *msg.Decision) { d.Reason, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonActivate, 0, 1 }), scaledObject()),
			want: []explain.Change{
				{Do: "scales to 1 to activate; from there the HPA decides between 1 and 30"},
			},
		},
		"raised on the fast path": {
			e: evidence(edit(msgtest.FastPathDecision(), func(d *msg.Decision) { d.CurrentReplicas, d.DesiredReplicas = 1, 20 }), scaledObject()),
			want: []explain.Change{
				{Do: "went from 1 to 20 at once on the fast path, without waiting for the HPA's sync; the HPA reads the same values and keeps it"},
				{Do: "the HPA decides between 1 and 30; from the values served now it goes to 20"},
				{Do: "scales to 0 300s after the last active reading", Unless: "once s0-rabbitmq-orders is at or below 2"},
			},
		},
		"paused by annotation": {
			e: evidence(edit(msgtest.Decision(), func(d *msg.Decision) { d.Reason, d.DesiredReplicas = msg.ReasonPaused, 1 }), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
			})),
			want: []explain.Change{{Do: "stays at 1: paused by autoscaling.keda.sh/paused=true", Unless: "until the annotation is removed"}},
		},
		"paused without the cluster": {
			e:    evidence(edit(msgtest.Decision(), func(d *msg.Decision) { d.Reason, d.DesiredReplicas = msg.ReasonPaused, 1 }), nil),
			want: []explain.Change{{Do: "stays at 1: paused by an annotation", Unless: "until it is removed (autoscaling.keda.sh/paused, paused-replicas, paused-scale-in or paused-scale-out)"}},
		},
		"a ScaledJob decides again after its polling interval": {
			e:    evidence(msgtest.JobDecision(), nil),
			want: []explain.Change{{Do: "decides again", At: t0.Add(31 * time.Second), Unless: "and creates Jobs for what the triggers read then"}},
		},
		"nothing decided yet": {
			e:    explain.Evidence{Object: msgtest.Object(), Readings: []msg.Reading{msgtest.Reading()}},
			want: []explain.Change{{Do: "the first decision comes once every trigger has a reading, or a polling interval after a decider first sees the object"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := explain.Explain(tc.e, t0.Add(10*time.Second)).Next
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	now := t0.Add(10 * time.Second)
	tests := map[string]struct {
		e    explain.Evidence
		now  time.Time
		want []string // each a part of one warning, in order; nil: no warning
	}{
		"all well": {e: evidence(msgtest.Decision(), scaledObject()), now: now},
		"nothing on the bus": {
			e:    explain.Evidence{Object: msgtest.Object()},
			now:  now,
			want: []string{"nothing on the bus for this object: no reading and no decision"},
		},
		"readings but no decision": {
			e:    explain.Evidence{Object: msgtest.Object(), Readings: []msg.Reading{msgtest.Reading()}},
			now:  now,
			want: []string{"no decision stored for this object: is a decider running"},
		},
		"an old decision and an old reading": {
			e:   evidence(msgtest.Decision(), nil),
			now: t0.Add(10 * time.Minute),
			want: []string{
				"the last decision is 9m59s old, over 3 polling intervals (30s)",
				"trigger 0 (rabbitmq): last read 10m0s ago, over 3 polling intervals (30s): the decider counts every poll missed since as a failed poll",
			},
		},
		"a trigger never read": {
			e: evidence(msgtest.Decision(), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers = append(so.Spec.Triggers, v1alpha1.ScaleTriggers{Type: "prometheus", Metadata: map[string]string{"serverAddress": "http://prom:9090", "query": "up", "threshold": "1"}})
			})),
			now:  now,
			want: []string{"trigger 1 (prometheus): no reading on the bus"},
		},
		"the last action failed": {
			e:    edit(evidence(msgtest.Decision(), nil), func(e *explain.Evidence) { e.Actions = append(e.Actions, msgtest.FailedAction()) }),
			now:  now,
			want: []string{`the last action failed: scale: deployments.apps "consumer" not found`},
		},
		"a newer spec than the decision": {
			e:    evidence(msgtest.Decision(), scaledObject(func(so *v1alpha1.ScaledObject) { so.Generation = 3 })),
			now:  now,
			want: []string{"the last decision is for generation 2, the spec is at 3"},
		},
		"not ready": {
			e: evidence(msgtest.Decision(), scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Status.Conditions = v1alpha1.Conditions{{Type: v1alpha1.ConditionReady, Status: "False", Reason: "ScaleTargetNotFound", Message: "deployment consumer not found"}}
			})),
			now:  now,
			want: []string{"status: Ready is False: ScaleTargetNotFound deployment consumer not found"},
		},
		"gone from the cluster": {
			e:    edit(evidence(msgtest.Decision(), nil), func(e *explain.Evidence) { e.Cluster.Read = true }),
			now:  now,
			want: []string{"the cluster has no ScaledObject orders/consumer"},
		},
		"a stored message that does not decode": {
			e:    edit(evidence(msgtest.Decision(), scaledObject()), func(e *explain.Evidence) { e.Problems = []string{"stored action 7: invalid action"} }),
			now:  now,
			want: []string{"stored action 7: invalid action"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := explain.Explain(tc.e, tc.now).Warnings
			if len(got) != len(tc.want) {
				t.Fatalf("warnings = %q, want %d containing %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestReportWithoutCluster(t *testing.T) {
	r := explain.Explain(evidence(msgtest.Decision(), nil), t0)
	if r.Spec != nil || r.Status != nil {
		t.Errorf("spec %+v, status %+v without the cluster; want none", r.Spec, r.Status)
	}
	if len(r.Unknown) != 1 || !strings.Contains(r.Unknown[0], "give -kubeconfig") {
		t.Errorf("unknown = %q, want the cluster named", r.Unknown)
	}
	r = explain.Explain(evidence(msgtest.Decision(), scaledObject()), t0)
	if r.Unknown != nil {
		t.Errorf("unknown = %q with the cluster read, want none", r.Unknown)
	}
	want := &explain.Spec{Generation: 2, PollingInterval: 30, CooldownPeriod: 300, MaxReplicaCount: 30}
	if diff := cmp.Diff(want, r.Spec); diff != "" {
		t.Errorf("spec with defaults (-want +got):\n%s", diff)
	}
}

func TestParseObject(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    msg.ObjectRef
		wantErr bool
	}{
		"namespace and name": {in: "orders/consumer", want: msg.ObjectRef{Namespace: "orders", Kind: msg.ScaledJob, Name: "consumer"}},
		"name only":          {in: "consumer", wantErr: true},
		"empty namespace":    {in: "/consumer", wantErr: true},
		"empty name":         {in: "orders/", wantErr: true},
		"three parts":        {in: "orders/so/consumer", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := explain.ParseObject(tc.in, msg.ScaledJob)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "<namespace>/<name>") {
					t.Errorf("ParseObject(%q) error = %v, want one naming the form", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseObject(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}
