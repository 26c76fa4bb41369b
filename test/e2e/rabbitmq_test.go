package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rabbitMQConsumer is the story ebb exists for: a consumer at zero wakes when 100 messages
// arrive, the HPA takes it to 100/5 = 20 replicas (ebb's fast path is off here, so the HPA
// does it), and when the queue is drained it goes back to zero after the cooldown. The broker's password lives in a Secret referenced by a
// TriggerAuthentication, and every step shows in `ebb tap`.
func rabbitMQConsumer(t *testing.T, e *env) {
	ctx := t.Context()
	url := e.rabbitQueue(t, "shop", "consumer", "q7-secret-pw", "orders")
	e.Namespace(t, "shop")
	createDeployment(t, e.Stack, "shop", "consumer", 0)
	e.triggerAuthentication(t, "shop", "rabbitmq", url)
	e.apply(t, scaledObjects, hpaOnly(scaledObjectManifest("shop", "consumer", map[string]any{
		"cooldownPeriod":  int64(10),
		"maxReplicaCount": int64(30),
		"triggers": []any{map[string]any{
			"type":              "rabbitmq",
			"metadata":          map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"},
			"authenticationRef": map[string]any{"name": "rabbitmq"},
		}},
	})))

	publish(t, url, "orders", 100)
	e.WaitForReplicas(t, "shop", "consumer", 1, 30*time.Second)
	e.WaitForReplicas(t, "shop", "consumer", 20, 90*time.Second)

	purge(t, url, "orders")
	e.WaitForReplicas(t, "shop", "consumer", 0, 90*time.Second)

	timeline, err := e.Tap(ctx, "-namespace", "shop", "-name", "consumer")
	if err != nil {
		t.Fatalf("ebb tap: %v\n%s", err, timeline)
	}
	for _, want := range []string{"activate", "deactivate", "scale"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("ebb tap shows no %q step:\n%s", want, timeline)
		}
	}
	if strings.Contains(timeline, "q7-secret-pw") {
		t.Errorf("the broker password appears in ebb tap:\n%s", timeline)
	}
}

// rabbitQueue gives a scenario its own vhost, user and queue on the shared broker, and
// returns the AMQP URL with that user's password.
func (e *env) rabbitQueue(t *testing.T, vhost, user, password, queue string) string {
	t.Helper()
	ctx := t.Context()
	for _, err := range []error{
		e.rabbit.AddVhost(ctx, vhost),
		e.rabbit.AddUser(ctx, user, password),
		e.rabbit.Permit(ctx, vhost, user),
		e.rabbit.DeclareQueue(ctx, vhost, queue),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return e.rabbit.AMQPURL(user, password, vhost)
}

// triggerAuthentication puts host (an AMQP URL with credentials) in a Secret and references
// it from a TriggerAuthentication, both called name.
func (e *env) triggerAuthentication(t *testing.T, namespace, name, host string) {
	t.Helper()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		StringData: map[string]string{"host": host},
	}
	if _, err := e.Kube.CoreV1().Secrets(namespace).Create(t.Context(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.apply(t, triggerAuthentications, map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{"secretTargetRef": []any{
			map[string]any{"parameter": "host", "name": name, "key": "host"},
		}},
	})
}

// amqpChannel opens a channel to url, closed when the test ends.
func amqpChannel(t *testing.T, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// publish sends n persistent messages to queue and waits for the broker's confirms, so the
// queue holds them all when it returns.
func publish(t *testing.T, url, queue string, n int) {
	t.Helper()
	ch := amqpChannel(t, url)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for i := range n {
		confirm, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "message %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := confirm.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("message %d not confirmed: %v", i, err)
		}
	}
}

// purge drops every message of queue.
func purge(t *testing.T, url, queue string) {
	t.Helper()
	if _, err := amqpChannel(t, url).QueuePurge(queue, false); err != nil {
		t.Fatal(err)
	}
}
