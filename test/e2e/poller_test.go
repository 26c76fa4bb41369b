package e2e

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

var scaledObjects = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// TestPollerPublishesReadingsOverAuthenticatedBus: the poller process reads a cron trigger of
// a ScaledObject applied to the cluster and its reading lands in the bus's last-value store,
// readable by the tap user.
func TestPollerPublishesReadingsOverAuthenticatedBus(t *testing.T) {
	s := Start(t, Options{EBB: ebbBinary, Services: []string{"poller"}})
	ctx := t.Context()
	createDeployment(t, s, "shop", "consumer", 0)
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": "consumer", "namespace": "shop"},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": "consumer"},
			"pollingInterval": int64(1),
			"triggers": []any{map[string]any{"type": "cron", "metadata": map[string]any{
				// Active all year but the last minute of it.
				"timezone": "Etc/UTC", "start": "0 0 1 1 *", "end": "59 23 31 12 *", "desiredReplicas": "3",
			}}},
		},
	}}
	if _, err := s.Dynamic.Resource(scaledObjects).Namespace("shop").Create(ctx, so, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	tap := s.Connect(t, bus.RoleTap)
	var got []msg.Reading
	waitUntil(t, 30*time.Second, "a reading of s0-cron", func() bool {
		got, _ = tap.LastReadings(ctx, msg.Filter{Namespace: "shop", Name: "consumer"})
		return len(got) == 1 && got[0].Error == ""
	})
	if r := got[0]; r.Value != 3 || !r.Active || r.Trigger.Type != "cron" || r.Object.Kind != msg.ScaledObject {
		t.Errorf("reading = %+v, want an active cron reading of 3", r)
	}
}

func createDeployment(t *testing.T, s *Stack, namespace, name string, replicas int32) {
	t.Helper()
	ctx := t.Context()
	s.CreateNamespace(t, namespace)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/consumer:1"}}},
			},
		},
	}
	if _, err := s.Kube.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
