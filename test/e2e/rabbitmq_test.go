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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ebb.dev/test/servers/rabbitmq"
)

var triggerAuthentications = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "triggerauthentications"}

// TestRabbitMQConsumer is the story ebb exists for: a consumer at zero wakes when 100
// messages arrive, the HPA takes it to 100/5 = 20 replicas, and when the queue is drained it
// goes back to zero after the cooldown. The broker's password lives in a Secret referenced by
// a TriggerAuthentication, and every step shows in `ebb tap`.
func TestRabbitMQConsumer(t *testing.T) {
	broker := rabbitmq.StartT(t, rabbitmq.Options{})
	ctx := t.Context()
	for _, err := range []error{
		broker.AddVhost(ctx, "shop"),
		broker.AddUser(ctx, "consumer", "q7-secret-pw"),
		broker.Permit(ctx, "shop", "consumer"),
		broker.DeclareQueue(ctx, "shop", "orders"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	url := broker.AMQPURL("consumer", "q7-secret-pw", "shop")

	s := Start(t, Options{EBB: ebbBinary})
	createDeployment(t, s, "shop", "consumer", 0)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "rabbitmq", Namespace: "shop"},
		StringData: map[string]string{"host": url},
	}
	if _, err := s.Kube.CoreV1().Secrets("shop").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.apply(t, triggerAuthentications, map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
		"metadata": map[string]any{"name": "rabbitmq", "namespace": "shop"},
		"spec": map[string]any{"secretTargetRef": []any{
			map[string]any{"parameter": "host", "name": "rabbitmq", "key": "host"},
		}},
	})
	s.apply(t, scaledObjects, map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": "consumer", "namespace": "shop"},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": "consumer"},
			"pollingInterval": int64(1),
			"cooldownPeriod":  int64(10),
			"maxReplicaCount": int64(30),
			"advanced":        map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"behavior": fastBehavior()}},
			"triggers": []any{map[string]any{
				"type":              "rabbitmq",
				"metadata":          map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"},
				"authenticationRef": map[string]any{"name": "rabbitmq"},
			}},
		},
	})

	publish(t, url, "orders", 100)
	s.WaitForReplicas(t, "shop", "consumer", 1, 30*time.Second)
	s.WaitForReplicas(t, "shop", "consumer", 20, 90*time.Second)

	purge(t, url, "orders")
	s.WaitForReplicas(t, "shop", "consumer", 0, 90*time.Second)

	timeline, err := s.Tap(ctx, "-namespace", "shop", "-name", "consumer")
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

// fastBehavior lets each HPA sync go straight to its recommendation, in both directions, so
// the test waits for one 15 s sync rather than for the default max(2x, 4) growth.
func fastBehavior() map[string]any {
	rules := map[string]any{
		"stabilizationWindowSeconds": int64(0),
		"policies":                   []any{map[string]any{"type": "Percent", "value": int64(1000), "periodSeconds": int64(15)}},
	}
	return map[string]any{"scaleUp": rules, "scaleDown": rules}
}

// publish sends n persistent messages to queue and waits for the broker's confirms, so the
// queue holds them all when it returns.
func publish(t *testing.T, url, queue string, n int) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for i := range n {
		confirm, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "order %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := confirm.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("message %d not confirmed: %v", i, err)
		}
	}
}

func purge(t *testing.T, url, queue string) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueuePurge(queue, false); err != nil {
		t.Fatal(err)
	}
}

// apply creates obj (an unstructured manifest) in its namespace.
func (s *Stack) apply(t *testing.T, gvr schema.GroupVersionResource, obj map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	if _, err := s.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}
