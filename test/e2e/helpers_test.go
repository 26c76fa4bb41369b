package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// createDeployment creates a Deployment whose pods never run (no kubelet here): the test
// watches its spec.replicas, which is what ebb and the HPA write.
func createDeployment(t *testing.T, s *Stack, namespace, name string, replicas int32) {
	t.Helper()
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
	if _, err := s.Kube.AppsV1().Deployments(namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
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

// patch merge-patches an object, as `kubectl patch --type merge` does.
func (s *Stack) patch(t *testing.T, gvr schema.GroupVersionResource, namespace, name string, patch map[string]any) {
	t.Helper()
	b, err := json.Marshal(patch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Dynamic.Resource(gvr).Namespace(namespace).Patch(t.Context(), name, types.MergePatchType, b, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch %s %s/%s: %v", gvr.Resource, namespace, name, err)
	}
}

// scaledObject reads a ScaledObject as ebb's own type.
func (s *Stack) scaledObject(ctx context.Context, namespace, name string) (*v1alpha1.ScaledObject, error) {
	u, err := s.Dynamic.Resource(scaledObjects).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var so v1alpha1.ScaledObject
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &so); err != nil {
		return nil, err
	}
	return &so, nil
}

// waitForScaledObject waits until cond holds for the ScaledObject's state, and fails with the
// status it last saw otherwise.
func (s *Stack) waitForScaledObject(t *testing.T, namespace, name, what string, timeout time.Duration, cond func(*v1alpha1.ScaledObject) bool) *v1alpha1.ScaledObject {
	t.Helper()
	var so *v1alpha1.ScaledObject
	poll(t, timeout, fmt.Sprintf("ScaledObject %s/%s: %s", namespace, name, what), func() (bool, string) {
		var err error
		so, err = s.scaledObject(t.Context(), namespace, name)
		if err != nil {
			return false, err.Error()
		}
		b, _ := json.Marshal(so.Status)
		return cond(so), string(b)
	})
	return so
}

// condition is the status of one condition ("" when absent).
func condition(so *v1alpha1.ScaledObject, c v1alpha1.ConditionType) metav1.ConditionStatus {
	got, _ := so.Status.Conditions.Get(c)
	return got.Status
}

// hpaExists reports whether an HPA of that name exists (and fails on other errors).
func (s *Stack) hpaExists(t *testing.T, namespace, name string) bool {
	t.Helper()
	_, err := s.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// actions replays the actions the audit stream holds about the objects f selects.
func (s *Stack) actions(t *testing.T, f msg.Filter) []msg.Action {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, err := s.procs.Connect(ctx, bus.RoleTap)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []msg.Action
	err = conn.ReplayAudit(ctx, bus.Replay{Subjects: []string{conn.Prefix().Filter(msg.TypeAction, f)}}, func(m bus.AuditMessage) error {
		a, err := msg.DecodeAs[msg.Action](m.Data)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatalf("replay actions: %v", err)
	}
	return out
}

// lastReading is the newest reading of an object's only trigger.
func (s *Stack) lastReading(t *testing.T, conn *bus.Conn, namespace, name string) (msg.Reading, bool) {
	t.Helper()
	got, err := conn.LastReadings(t.Context(), msg.Filter{Namespace: namespace, Name: name})
	if err != nil || len(got) != 1 {
		return msg.Reading{}, false
	}
	return got[0], true
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

// hpaOnly turns ebb's fast scale-up path off for a ScaledObject manifest, so that above one
// replica only the HPA scales it: the path the HPA-driven scenarios exercise.
func hpaOnly(so map[string]any) map[string]any {
	so["metadata"].(map[string]any)["annotations"] = map[string]any{v1alpha1.FastScaleUpAnnotation: "false"}
	return so
}

// scaledObjectManifest is a ScaledObject manifest polled every second, with a short cooldown and an
// HPA that moves in one sync; spec adds to (and overrides) those fields.
func scaledObjectManifest(namespace, name string, spec map[string]any) map[string]any {
	full := map[string]any{
		"scaleTargetRef":  map[string]any{"name": name},
		"pollingInterval": int64(1),
		"cooldownPeriod":  int64(5),
		"advanced":        map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"behavior": fastBehavior()}},
	}
	for k, v := range spec {
		full[k] = v
	}
	return map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec":     full,
	}
}
