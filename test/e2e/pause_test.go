package e2e

import (
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

// pausedReplicas: a Deployment at 2 taken over by a ScaledObject (the lag asks for 3) is
// held at the paused-replicas count with its HPA gone; unpaused, a new HPA brings it back to
// what the lag asks; deleted with restoreToOriginalReplicaCount, the ScaledObject leaves no
// HPA and the Deployment at its original 2.
func pausedReplicas(t *testing.T, e *env) {
	const ns, name, topic, group = "pause", "web", "clicks", "web"
	const hpa = "keda-hpa-" + name
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, name, 2)
	e.kafka.createTopic(t, topic, 3)
	e.kafka.produce(t, topic, 3, 10)
	e.kafka.commit(t, group, topic, map[int32]int64{0: 0, 1: 0, 2: 0}) // lag 30: three replicas
	e.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"maxReplicaCount": int64(10),
		"advanced": map[string]any{
			"restoreToOriginalReplicaCount": true,
			"horizontalPodAutoscalerConfig": map[string]any{"behavior": fastBehavior()},
		},
		"triggers": []any{map[string]any{"type": "kafka", "metadata": map[string]any{
			"bootstrapServers": e.kafka.addr, "consumerGroup": group, "topic": topic, "lagThreshold": "10",
		}}},
	}))
	e.WaitForReplicas(t, ns, name, 3, 60*time.Second)
	so, err := e.scaledObject(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if got := so.Status.OriginalReplicaCount; got == nil || *got != 2 {
		t.Errorf("status.originalReplicaCount = %v, want 2", got)
	}

	setPause := func(value any) {
		e.patch(t, scaledObjects, ns, name, map[string]any{"metadata": map[string]any{
			"annotations": map[string]any{v1alpha1.PausedReplicasAnnotation: value},
		}})
	}
	setPause("5")
	e.WaitForReplicas(t, ns, name, 5, 30*time.Second)
	e.waitForScaledObject(t, ns, name, "paused", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		return condition(so, v1alpha1.ConditionPaused) == metav1.ConditionTrue
	})
	waitUntil(t, 30*time.Second, "HPA "+hpa+" deleted", func() bool { return !e.hpaExists(t, ns, hpa) })
	// The lag still asks for 3, and polls go on: the count holds.
	e.HoldsReplicas(t, ns, name, 5, 4*time.Second)

	setPause(nil)
	e.waitForScaledObject(t, ns, name, "unpaused", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		return condition(so, v1alpha1.ConditionPaused) == metav1.ConditionFalse
	})
	waitUntil(t, 30*time.Second, "HPA "+hpa+" created again", func() bool { return e.hpaExists(t, ns, hpa) })
	e.WaitForReplicas(t, ns, name, 3, 60*time.Second)

	if err := e.Dynamic.Resource(scaledObjects).Namespace(ns).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.WaitForReplicas(t, ns, name, 2, 30*time.Second)
	waitUntil(t, 30*time.Second, "ScaledObject and HPA gone", func() bool {
		_, err := e.scaledObject(t.Context(), ns, name)
		return apierrors.IsNotFound(err) && !e.hpaExists(t, ns, hpa)
	})
	// Nothing scales it any more.
	e.HoldsReplicas(t, ns, name, 2, 3*time.Second)
}
