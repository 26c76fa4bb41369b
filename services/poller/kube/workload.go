package kube

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"ebb.dev/schemas/keda/v1alpha1"
)

type workloadKey struct {
	apiVersion, kind, namespace, name string
}

// PodSpec returns the pod template of a scale target: spec.template.spec of any kind that has
// one (Deployment, StatefulSet, most custom workloads). It is reused for WorkloadTTL; the
// Secrets and ConfigMaps it references are read fresh by the resolver.
func (k *Cluster) PodSpec(ctx context.Context, namespace string, t v1alpha1.ScaleTarget) (*corev1.PodSpec, error) {
	key := workloadKey{t.APIVersion, t.Kind, namespace, t.Name}
	if key.apiVersion == "" {
		key.apiVersion = v1alpha1.DefaultScaleTargetAPI
	}
	if key.kind == "" {
		key.kind = v1alpha1.DefaultScaleTargetKind
	}
	return k.workloads.get(key, func() (*corev1.PodSpec, time.Duration, error) {
		spec, err := k.readPodSpec(ctx, key)
		return spec, k.cfg.WorkloadTTL, err
	})
}

func (k *Cluster) readPodSpec(ctx context.Context, key workloadKey) (*corev1.PodSpec, error) {
	gv, err := schema.ParseGroupVersion(key.apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %w", key.apiVersion, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gv.WithKind(key.kind))
	if err := k.api.Get(ctx, types.NamespacedName{Namespace: key.namespace, Name: key.name}, u); err != nil {
		return nil, err
	}
	raw, found, err := unstructured.NestedMap(u.Object, "spec", "template", "spec")
	if err != nil || !found {
		return nil, errNoTemplate
	}
	var spec corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
		return nil, fmt.Errorf("decode spec.template.spec: %w", err)
	}
	return &spec, nil
}

// Token returns a bound token for a service account, requesting a new one once 80 % of the
// last one's lifetime has passed.
func (k *Cluster) Token(ctx context.Context, namespace, serviceAccount string) (string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: serviceAccount}
	return k.tokens.get(key, func() (string, time.Duration, error) {
		secs := int64(k.cfg.TokenLifetime / time.Second)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: serviceAccount}}
		if err := k.api.SubResource("token").Create(ctx, sa, tr); err != nil {
			return "", 0, fmt.Errorf("request token: %w", err)
		}
		life := tr.Status.ExpirationTimestamp.Sub(k.cfg.Clock.Now())
		return tr.Status.Token, life * 8 / 10, nil
	})
}
