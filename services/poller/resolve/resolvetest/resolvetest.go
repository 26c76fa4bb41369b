// Package resolvetest is an in-memory cluster for resolve.Resolver: unit tests and benchmarks
// use it where the API server is not the subject. Integration tests use the real one.
package resolvetest

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/services/poller/resolve"
)

// Cluster holds objects by namespace and name; the zero value is empty and ready. It is safe
// for concurrent use, so a test may rotate a Secret while pollers read it.
type Cluster struct {
	mu         sync.Mutex
	secrets    map[key]map[string][]byte
	configMaps map[key]map[string]string
	auths      map[key]*v1alpha1.TriggerAuthenticationSpec // namespace "" for cluster-scoped
	pods       map[key]*corev1.PodSpec                     // by scale target name
	tokens     map[key]string
}

type key struct{ namespace, name string }

var (
	_ resolve.Secrets   = (*Cluster)(nil)
	_ resolve.Auths     = (*Cluster)(nil)
	_ resolve.Workloads = (*Cluster)(nil)
	_ resolve.Tokens    = (*Cluster)(nil)
)

// Resolver returns a resolver reading c, with ebb's namespace ns.
func (c *Cluster) Resolver(ns string) *resolve.Resolver {
	return &resolve.Resolver{Secrets: c, Auths: c, Workloads: c, Tokens: c, Namespace: ns}
}

// PutSecret creates or replaces a Secret.
func (c *Cluster) PutSecret(ns, name string, data map[string]string) {
	b := map[string][]byte{}
	for k, v := range data {
		b[k] = []byte(v)
	}
	put(c, &c.secrets, key{ns, name}, b)
}

// PutConfigMap creates or replaces a ConfigMap.
func (c *Cluster) PutConfigMap(ns, name string, data map[string]string) {
	put(c, &c.configMaps, key{ns, name}, data)
}

// PutTriggerAuthentication creates or replaces a TriggerAuthentication; ns "" makes it a
// ClusterTriggerAuthentication.
func (c *Cluster) PutTriggerAuthentication(ns, name string, spec v1alpha1.TriggerAuthenticationSpec) {
	put(c, &c.auths, key{ns, name}, &spec)
}

// PutWorkload sets the pod template of the scale target ns/name.
func (c *Cluster) PutWorkload(ns, name string, spec corev1.PodSpec) {
	put(c, &c.pods, key{ns, name}, &spec)
}

// PutToken sets the token issued for service account ns/name.
func (c *Cluster) PutToken(ns, name, token string) {
	put(c, &c.tokens, key{ns, name}, token)
}

func put[V any](c *Cluster, m *map[key]V, k key, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[key]V{}
	}
	(*m)[k] = v
}

func get[V any](c *Cluster, m map[key]V, resource string, k key) (V, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := m[k]
	if !ok {
		return v, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, k.name)
	}
	return v, nil
}

// Secret implements resolve.Secrets.
func (c *Cluster) Secret(_ context.Context, ns, name string) (map[string][]byte, error) {
	return get(c, c.secrets, "secrets", key{ns, name})
}

// ConfigMap implements resolve.Secrets.
func (c *Cluster) ConfigMap(_ context.Context, ns, name string) (map[string]string, error) {
	return get(c, c.configMaps, "configmaps", key{ns, name})
}

// TriggerAuthentication implements resolve.Auths.
func (c *Cluster) TriggerAuthentication(_ context.Context, ns, name string) (*v1alpha1.TriggerAuthenticationSpec, error) {
	return get(c, c.auths, "triggerauthentications", key{ns, name})
}

// ClusterTriggerAuthentication implements resolve.Auths.
func (c *Cluster) ClusterTriggerAuthentication(_ context.Context, name string) (*v1alpha1.TriggerAuthenticationSpec, error) {
	return get(c, c.auths, "clustertriggerauthentications", key{"", name})
}

// PodSpec implements resolve.Workloads.
func (c *Cluster) PodSpec(_ context.Context, ns string, t v1alpha1.ScaleTarget) (*corev1.PodSpec, error) {
	return get(c, c.pods, "deployments", key{ns, t.Name})
}

// Token implements resolve.Tokens.
func (c *Cluster) Token(_ context.Context, ns, sa string) (string, error) {
	return get(c, c.tokens, "serviceaccounts", key{ns, sa})
}
