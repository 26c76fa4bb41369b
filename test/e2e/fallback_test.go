package e2e

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

// fallback: a Kafka broker that goes away makes the trigger fail; once it has failed more
// than failureThreshold polls in a row, the Fallback condition is set, the metric's health is
// Failing and the HPA takes the Deployment to fallback.replicas. When the broker comes back
// at the same address, the lag scales it again and the fallback clears.
func fallback(t *testing.T, e *env) {
	const ns, name, topic, group = "outage", "ingest", "events", "ingesters"
	const threshold, fallbackReplicas = 3, 5
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, name, 0)
	broker := startKafka(t, 0)
	seed := func(k *kafkaCluster, committed int64) {
		k.createTopic(t, topic, 3)
		k.produce(t, topic, 3, 10)
		k.commit(t, group, topic, map[int32]int64{0: committed, 1: committed, 2: 10})
	}
	seed(broker, 0) // lag 10 + 10 + 0: two replicas
	e.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"maxReplicaCount": int64(10),
		"fallback":        map[string]any{"failureThreshold": int64(threshold), "replicas": int64(fallbackReplicas)},
		"triggers": []any{map[string]any{"type": "kafka", "metadata": map[string]any{
			"bootstrapServers": broker.addr, "consumerGroup": group, "topic": topic, "lagThreshold": "10",
		}}},
	}))
	e.WaitForReplicas(t, ns, name, 2, 60*time.Second)
	metric := "s0-kafka-" + topic

	port := broker.port(t)
	broker.cluster.Close()
	so := e.waitForScaledObject(t, ns, name, "in fallback", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		return condition(so, v1alpha1.ConditionFallback) == metav1.ConditionTrue
	})
	h := so.Status.Health[metric]
	if h.Status != v1alpha1.HealthStatusFailing || h.NumberOfFailures == nil || *h.NumberOfFailures <= threshold {
		t.Errorf("health of %s at fallback = %+v, want Failing after more than %d failures", metric, h, threshold)
	}
	e.WaitForReplicas(t, ns, name, fallbackReplicas, 45*time.Second)

	seed(startKafka(t, port), 5) // lag 5 + 5 + 0: one replica
	e.waitForScaledObject(t, ns, name, "out of fallback and healthy", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		return condition(so, v1alpha1.ConditionFallback) == metav1.ConditionFalse &&
			so.Status.Health[metric].Status == v1alpha1.HealthStatusHappy
	})
	e.WaitForReplicas(t, ns, name, 1, 45*time.Second)
}
