package crd

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/yaml"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/decider/decide"
)

func scaledObject(t *testing.T, doc string) *v1alpha1.ScaledObject {
	t.Helper()
	var so v1alpha1.ScaledObject
	if err := yaml.UnmarshalStrict([]byte(doc), &so); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &so
}

const queue = `
  triggers:
  - type: rabbitmq
    name: orders
    metadata: {hostFromEnv: URL, queueName: orders, value: "5", activationValue: "2"}
`

func TestScaledObject(t *testing.T) {
	two, zero := int32(2), int32(0)
	orders := decide.Trigger{Name: "orders", Metric: "s0-rabbitmq-orders", Target: 5, Activation: 2}
	tests := map[string]struct {
		doc  string
		want decide.Spec
	}{
		"the CRD defaults fill what the object leaves out": {
			doc:  "kind: ScaledObject\nspec:" + queue,
			want: decide.Spec{Max: 100, Cooldown: 300 * time.Second, Triggers: []decide.Trigger{orders}, FastScaleUp: true},
		},
		"autoscaling.ebb.dev/fast-scale-up false turns the fast path off": {
			doc:  "kind: ScaledObject\nmetadata:\n  annotations:\n    autoscaling.ebb.dev/fast-scale-up: \"false\"\nspec:" + queue,
			want: decide.Spec{Max: 100, Cooldown: 300 * time.Second, Triggers: []decide.Trigger{orders}},
		},
		"autoscaling.ebb.dev/fast-scale-up true keeps it on": {
			doc:  "kind: ScaledObject\nmetadata:\n  annotations:\n    autoscaling.ebb.dev/fast-scale-up: \"true\"\nspec:" + queue,
			want: decide.Spec{Max: 100, Cooldown: 300 * time.Second, Triggers: []decide.Trigger{orders}, FastScaleUp: true},
		},
		"counts, periods and fallback carry over": {
			doc: `kind: ScaledObject
spec:
  minReplicaCount: 2
  maxReplicaCount: 9
  idleReplicaCount: 0
  cooldownPeriod: 30
  initialCooldownPeriod: 90
  fallback: {failureThreshold: 3, replicas: 4, behavior: currentReplicasIfHigher}` + queue,
			want: decide.Spec{Min: 2, Max: 9, Idle: &zero, Cooldown: 30 * time.Second, InitialCooldown: 90 * time.Second,
				Fallback: &decide.Fallback{FailureThreshold: 3, Replicas: 4, Behavior: decide.FallbackCurrentReplicasIfHigher},
				Triggers: []decide.Trigger{orders}, FastScaleUp: true},
		},
		"annotations pause, pause a direction and force activation": {
			doc: `kind: ScaledObject
metadata:
  annotations:
    autoscaling.keda.sh/paused-replicas: "2"
    autoscaling.keda.sh/paused: "false"
    autoscaling.keda.sh/paused-scale-in: "true"
    autoscaling.keda.sh/force-activation: "true"
spec:` + queue,
			want: decide.Spec{Max: 100, Cooldown: 300 * time.Second, Triggers: []decide.Trigger{orders},
				Pause: decide.Pause{Replicas: &two, ScaleIn: true}, ForceActivation: true, FastScaleUp: true},
		},
		"scalingModifiers are parsed and cpu triggers are marked as resource metrics": {
			doc: `kind: ScaledObject
spec:
  advanced:
    scalingModifiers: {formula: "orders * 2", target: "7.5", activationTarget: "1", metricType: Value}
  triggers:
  - type: rabbitmq
    name: orders
    metadata: {hostFromEnv: URL, queueName: orders, value: "5", activationValue: "2"}
  - type: cpu
    metricType: Utilization
    metadata: {value: "60"}
`,
			want: decide.Spec{Max: 100, Cooldown: 300 * time.Second,
				Modifiers: &decide.Modifiers{Formula: "orders * 2", Target: 7.5, ActivationTarget: 1, MetricType: autoscalingv2.ValueMetricType},
				Triggers:  []decide.Trigger{orders, {Metric: "cpu", Resource: true}}, FastScaleUp: true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ScaledObject(scaledObject(t, tc.doc), trigger.Builtin(), Unresolved)
			if err != nil {
				t.Fatalf("ScaledObject: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ScaledObject (-want +got):\n%s", diff)
			}
			if _, err := decide.Compile(got); err != nil {
				t.Errorf("the converted spec does not compile: %v", err)
			}
		})
	}
}

func TestScaledObjectErrorsNameTheField(t *testing.T) {
	tests := map[string]struct {
		doc  string
		want string
	}{
		"a paused-replicas that is no count": {
			doc:  "kind: ScaledObject\nmetadata:\n  annotations: {autoscaling.keda.sh/paused-replicas: lots}\nspec:" + queue,
			want: "metadata.annotations[autoscaling.keda.sh/paused-replicas]"},
		"a force-activation that is no boolean": {
			doc:  "kind: ScaledObject\nmetadata:\n  annotations: {autoscaling.keda.sh/force-activation: sure}\nspec:" + queue,
			want: "metadata.annotations[autoscaling.keda.sh/force-activation]"},
		"a fast-scale-up that is no boolean": {
			doc:  "kind: ScaledObject\nmetadata:\n  annotations: {autoscaling.ebb.dev/fast-scale-up: maybe}\nspec:" + queue,
			want: "metadata.annotations[autoscaling.ebb.dev/fast-scale-up]"},
		"a modifiers target that is no number": {
			doc:  "kind: ScaledObject\nspec:\n  advanced:\n    scalingModifiers: {formula: orders, target: ten}" + queue,
			want: "spec.advanced.scalingModifiers.target"},
		"an unknown trigger type": {
			doc:  "kind: ScaledObject\nspec:\n  triggers:\n  - type: carrier-pigeon\n    metadata: {}\n",
			want: "spec.triggers[0].type"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ScaledObject(scaledObject(t, tc.doc), trigger.Builtin(), Unresolved)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ScaledObject error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestScaledJob(t *testing.T) {
	doc := `kind: ScaledJob
metadata:
  annotations: {autoscaling.keda.sh/paused: "true"}
spec:
  maxReplicaCount: 8
  scalingStrategy:
    strategy: custom
    customScalingQueueLengthDeduction: 2
    customScalingRunningJobPercentage: "0.25"
    multipleScalersCalculation: sum` + queue
	var sj v1alpha1.ScaledJob
	if err := yaml.UnmarshalStrict([]byte(doc), &sj); err != nil {
		t.Fatal(err)
	}
	got, err := ScaledJob(&sj, trigger.Builtin(), Unresolved)
	if err != nil {
		t.Fatalf("ScaledJob: %v", err)
	}
	want := decide.JobSpec{Max: 8, Strategy: decide.StrategyCustom, Calculation: decide.CalculationSum, Deduction: 2,
		RunningJobPercentage: 0.25, Paused: true,
		Triggers: []decide.Trigger{{Name: "orders", Metric: "s0-rabbitmq-orders", Target: 5, Activation: 2}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScaledJob (-want +got):\n%s", diff)
	}

	sj.Spec.ScalingStrategy.CustomScalingRunningJobPercentage = "half"
	if _, err := ScaledJob(&sj, trigger.Builtin(), Unresolved); err == nil ||
		!strings.Contains(err.Error(), "spec.scalingStrategy.customScalingRunningJobPercentage") {
		t.Errorf("ScaledJob error = %v, want one naming customScalingRunningJobPercentage", err)
	}
}

func TestPollingInterval(t *testing.T) {
	five := int32(5)
	if got := PollingInterval(nil); got != 30*time.Second {
		t.Errorf("PollingInterval(nil) = %v, want the 30s default", got)
	}
	if got := PollingInterval(&five); got != 5*time.Second {
		t.Errorf("PollingInterval(5) = %v, want 5s", got)
	}
}
