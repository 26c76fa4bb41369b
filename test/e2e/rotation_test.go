package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
)

// secretRotation: a TriggerAuthentication's Secret holds a wrong broker password, so every
// reading is an error (that names neither password) and nothing scales; once the Secret holds
// the right one, the same processes read the queue and scale the Deployment.
func secretRotation(t *testing.T, e *env) {
	const ns, name, queue = "rotation", "mailer", "mail"
	const rightPW, wrongPW = "rotated-pw-6", "stale-pw-6"
	url := e.rabbitQueue(t, ns, "mailer", rightPW, queue)
	wrongURL := e.rabbit.AMQPURL("mailer", wrongPW, ns)
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, name, 0)
	publish(t, url, queue, 10)
	e.triggerAuthentication(t, ns, "rabbitmq", wrongURL)
	e.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"maxReplicaCount": int64(10),
		"triggers": []any{map[string]any{
			"type":              "rabbitmq",
			"metadata":          map[string]any{"queueName": queue, "mode": "QueueLength", "value": "5"},
			"authenticationRef": map[string]any{"name": "rabbitmq"},
		}},
	}))

	tap := e.Connect(t, bus.RoleTap)
	poll(t, 30*time.Second, "a reading that failed", func() (bool, string) {
		r, ok := e.lastReading(t, tap, ns, name)
		return ok && r.Error != "", fmt.Sprintf("%+v", r)
	})
	e.waitForScaledObject(t, ns, name, "its metric failing 3 times", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		h := so.Status.Health["s0-rabbitmq-"+queue]
		return h.Status == v1alpha1.HealthStatusFailing && h.NumberOfFailures != nil && *h.NumberOfFailures >= 3
	})
	e.HoldsReplicas(t, ns, name, 0, 2*time.Second)
	r, _ := e.lastReading(t, tap, ns, name)
	for _, pw := range []string{wrongPW, rightPW} {
		if strings.Contains(r.Error, pw) {
			t.Errorf("reading error quotes a password: %s", r.Error)
		}
		if strings.Contains(e.Log("poller"), pw) {
			t.Errorf("the poller logged a password")
		}
	}

	// Rotate: the same Secret, the right password.
	secret, err := e.Kube.CoreV1().Secrets(ns).Get(t.Context(), "rabbitmq", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret.Data = map[string][]byte{"host": []byte(url)}
	if _, err := e.Kube.CoreV1().Secrets(ns).Update(t.Context(), secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.WaitForReplicas(t, ns, name, 2, 30*time.Second)
	e.waitForScaledObject(t, ns, name, "its metric healthy", 30*time.Second, func(so *v1alpha1.ScaledObject) bool {
		return so.Status.Health["s0-rabbitmq-"+queue].Status == v1alpha1.HealthStatusHappy
	})
	if strings.Contains(e.Log("poller"), rightPW) {
		t.Errorf("the poller logged the rotated password")
	}
}
