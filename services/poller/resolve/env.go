package resolve

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// podEnv reads the environment of the trigger's pod once per resolution, whichever sources
// ask for it.
type podEnv struct {
	r    *Resolver
	req  Request
	spec *corev1.PodSpec
}

// env returns the environment of container (the first one when container is empty) as the
// kubelet would build it: envFrom in order, then env, with $(VAR) references expanded. Values
// from Secrets and ConfigMaps are read now, so a rotated Secret shows.
func (p *podEnv) env(ctx context.Context, container string) (map[string]string, error) {
	spec, err := p.podSpec(ctx)
	if err != nil {
		return nil, err
	}
	c, err := pick(spec, container)
	if err != nil {
		return nil, err
	}
	return p.containerEnv(ctx, c)
}

func (p *podEnv) podSpec(ctx context.Context) (*corev1.PodSpec, error) {
	if p.spec != nil {
		return p.spec, nil
	}
	switch {
	case p.req.PodSpec != nil:
		p.spec = p.req.PodSpec
	case p.req.ScaleTarget != nil:
		t := p.req.ScaleTarget
		spec, err := p.r.Workloads.PodSpec(ctx, p.req.Namespace, *t)
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("scale target %s %s/%s not found", t.Kind, p.req.Namespace, t.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("read the pod template of %s %s/%s: %w", t.Kind, p.req.Namespace, t.Name, err)
		}
		p.spec = spec
	default:
		return nil, fmt.Errorf("no pod template to read the environment from")
	}
	return p.spec, nil
}

func pick(spec *corev1.PodSpec, name string) (*corev1.Container, error) {
	if name == "" {
		if len(spec.Containers) == 0 {
			return nil, fmt.Errorf("the pod template has no containers")
		}
		return &spec.Containers[0], nil
	}
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("the pod template has no container %q", name)
}

func (p *podEnv) containerEnv(ctx context.Context, c *corev1.Container) (map[string]string, error) {
	ns := p.req.Namespace
	env := map[string]string{}
	for i, from := range c.EnvFrom {
		if err := p.envFrom(ctx, ns, from, env); err != nil {
			return nil, fmt.Errorf("container %q envFrom[%d]: %w", c.Name, i, err)
		}
	}
	for _, e := range c.Env {
		v, ok, err := p.envVar(ctx, ns, e, env)
		if err != nil {
			return nil, fmt.Errorf("container %q env %s: %w", c.Name, e.Name, err)
		}
		if ok {
			env[e.Name] = v
		}
	}
	return env, nil
}

func (p *podEnv) envFrom(ctx context.Context, ns string, from corev1.EnvFromSource, env map[string]string) error {
	k, name, optional := configMapKind, "", (*bool)(nil)
	switch {
	case from.ConfigMapRef != nil:
		name, optional = from.ConfigMapRef.Name, from.ConfigMapRef.Optional
	case from.SecretRef != nil:
		k, name, optional = secretKind, from.SecretRef.Name, from.SecretRef.Optional
	default:
		return nil
	}
	data, err := p.r.data(ctx, k, ns, name)
	if optionalMissing(err, optional) {
		return nil
	}
	if err != nil {
		return readErr(k, ns, name, err)
	}
	for key, v := range data {
		env[from.Prefix+key] = v
	}
	return nil
}

// envVar resolves one variable. Field and resource references need a running pod and are
// left out, as KEDA does.
func (p *podEnv) envVar(ctx context.Context, ns string, e corev1.EnvVar, env map[string]string) (string, bool, error) {
	src := e.ValueFrom
	var k kind
	var ref corev1.LocalObjectReference
	var key string
	var optional *bool
	switch {
	case src == nil:
		return expand(e.Value, env), true, nil
	case src.SecretKeyRef != nil:
		k, ref, key, optional = secretKind, src.SecretKeyRef.LocalObjectReference, src.SecretKeyRef.Key, src.SecretKeyRef.Optional
	case src.ConfigMapKeyRef != nil:
		k, ref, key, optional = configMapKind, src.ConfigMapKeyRef.LocalObjectReference, src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Optional
	default:
		return "", false, nil
	}
	data, err := p.r.data(ctx, k, ns, ref.Name)
	if optionalMissing(err, optional) {
		return "", false, nil
	}
	if err != nil {
		return "", false, readErr(k, ns, ref.Name, err)
	}
	v, ok := data[key]
	if !ok && !isTrue(optional) {
		return "", false, fmt.Errorf("%s %s/%s has no key %q", k, ns, ref.Name, key)
	}
	return v, ok, nil
}

func optionalMissing(err error, optional *bool) bool {
	return apierrors.IsNotFound(err) && isTrue(optional)
}

func isTrue(b *bool) bool { return b != nil && *b }

// expand replaces $(NAME) with the value of an earlier variable, as the kubelet does: $$
// escapes a dollar, and a reference to an unknown variable stays as written.
func expand(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
