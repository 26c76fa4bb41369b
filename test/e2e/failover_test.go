package e2e

import (
	"fmt"
	"testing"
	"time"

	"ebb.dev/schemas/msg"
)

// actuatorFailover: behavior.scaleUp allows 2 pods every 4 s, so ebb's fast path takes a
// Deployment from 0 to 8 in steps. The actuator that holds the Lease is killed in the middle;
// the standby takes the Lease within seconds and finishes the job: it writes the remaining
// steps and, once the queue is drained, scales the Deployment back to zero. The killed
// actuator then rejoins as the standby.
func actuatorFailover(t *testing.T, e *env) {
	const ns, name, queue = "failover", "worker", "tasks"
	url := e.rabbitQueue(t, ns, "worker", "tasks-pw-7", queue)
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, name, 0)
	e.triggerAuthentication(t, ns, "rabbitmq", url)
	stepUp := map[string]any{
		"stabilizationWindowSeconds": int64(0),
		"policies":                   []any{map[string]any{"type": "Pods", "value": int64(2), "periodSeconds": int64(4)}},
	}
	e.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"maxReplicaCount": int64(10),
		"advanced": map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"behavior": map[string]any{
			"scaleUp": stepUp, "scaleDown": fastBehavior()["scaleDown"],
		}}},
		"triggers": []any{map[string]any{
			"type":              "rabbitmq",
			"metadata":          map[string]any{"queueName": queue, "mode": "QueueLength", "value": "5"},
			"authenticationRef": map[string]any{"name": "rabbitmq"},
		}},
	}))
	var leader string
	waitUntil(t, 30*time.Second, "an actuator to lead", func() bool { leader = e.Leader(t); return leader != "" })
	standby := map[string]string{"actuator": "actuator-2", "actuator-2": "actuator"}[leader]
	if standby == "" {
		t.Fatalf("the Lease is held by %q, not by one of the stack's actuators", leader)
	}

	publish(t, url, queue, 40) // 40/5: 8 replicas
	var atKill int32
	poll(t, 30*time.Second, "the scale-up under way", func() (bool, string) {
		n, err := e.replicas(t, ns, name)
		atKill = n
		return err == nil && n > 0 && n < 8, fmt.Sprintf("replicas %d, error %v", n, err)
	})
	e.KillService(leader)
	killed := time.Now()
	poll(t, 20*time.Second, standby+" to take the Lease", func() (bool, string) {
		got := e.Leader(t)
		return got == standby, "held by " + got
	})
	t.Logf("killed %s at %d replicas; %s took over %s later", leader, atKill, standby, time.Since(killed).Round(100*time.Millisecond))
	e.StartService(t, leader) // back, as the standby
	e.WaitForReplicas(t, ns, name, 8, 60*time.Second)

	purge(t, url, queue)
	e.WaitForReplicas(t, ns, name, 0, 60*time.Second)
	var steps, down int
	for _, a := range e.actions(t, msg.Filter{Namespace: ns, Kind: msg.ScaledObject, Name: name}) {
		if a.Operation != msg.OpScale || a.Result != msg.ResultOK || a.To == nil || !a.At.After(killed) {
			continue
		}
		switch {
		case *a.To == 0:
			down++
		case a.Decision != nil && a.Decision.Reason == msg.ReasonFastPath:
			steps++
		}
	}
	if steps == 0 || down == 0 {
		t.Errorf("after %s was killed, the bus shows %d fast-path steps and %d scales to 0; want both", leader, steps, down)
	}
	if got := e.Leader(t); got != standby {
		t.Errorf("Lease held by %q at the end, want %s", got, standby)
	}
}
