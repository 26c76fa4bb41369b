package resolve

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// Secrets reads the current data of Secrets and ConfigMaps: a rotated Secret must show at the
// next call. A missing object is a Kubernetes NotFound error.
type Secrets interface {
	Secret(ctx context.Context, namespace, name string) (map[string][]byte, error)
	ConfigMap(ctx context.Context, namespace, name string) (map[string]string, error)
}

// Auths finds the specs of TriggerAuthentications and ClusterTriggerAuthentications. A missing
// object is a Kubernetes NotFound error.
type Auths interface {
	TriggerAuthentication(ctx context.Context, namespace, name string) (*v1alpha1.TriggerAuthenticationSpec, error)
	ClusterTriggerAuthentication(ctx context.Context, name string) (*v1alpha1.TriggerAuthenticationSpec, error)
}

// Workloads reads the pod template of a ScaledObject's scale target.
type Workloads interface {
	PodSpec(ctx context.Context, namespace string, target v1alpha1.ScaleTarget) (*corev1.PodSpec, error)
}

// Tokens issues bound service account tokens (TokenRequest).
type Tokens interface {
	Token(ctx context.Context, namespace, serviceAccount string) (string, error)
}

// Resolver turns a trigger into trigger.Params. Every field must be set; Vault may be nil, and
// then a TriggerAuthentication that uses hashiCorpVault fails with an error naming it.
type Resolver struct {
	Secrets   Secrets
	Auths     Auths
	Workloads Workloads
	Tokens    Tokens
	Vault     Vault
	// Namespace is ebb's own namespace, where a ClusterTriggerAuthentication's Secrets,
	// ConfigMaps and service accounts live.
	Namespace string
}

// Request is one trigger to resolve and where its environment comes from.
type Request struct {
	Namespace string
	Trigger   v1alpha1.ScaleTriggers
	// Path is the trigger's field path (spec.triggers[2]); errors point below it.
	Path *field.Path
	// ScaleTarget is a ScaledObject's workload; its pod template gives the environment.
	ScaleTarget *v1alpha1.ScaleTarget
	// PodSpec is a ScaledJob's job template pod spec, used instead of ScaleTarget.
	PodSpec *corev1.PodSpec
	// Container is envSourceContainerName: the container <param>FromEnv reads (default the first).
	Container string
}

// Params resolves every parameter source of req. The environment and the authentication are
// read only when the trigger uses them.
func (r *Resolver) Params(ctx context.Context, req Request) (trigger.Params, error) {
	p := trigger.Params{Metadata: req.Trigger.Metadata, MetricType: req.Trigger.MetricType}
	pods := &podEnv{r: r, req: req}
	if usesFromEnv(req.Trigger.Metadata) {
		env, err := pods.env(ctx, req.Container)
		if err != nil {
			return p, fmt.Errorf("%s: %w", req.Path.Child("metadata"), err)
		}
		p.Env = env
	}
	if ref := req.Trigger.AuthenticationRef; ref != nil {
		auth, err := r.auth(ctx, req, ref, pods)
		if err != nil {
			return p, fmt.Errorf("%s: %w", req.Path.Child("authenticationRef"), err)
		}
		p.Auth = auth
	}
	return p, nil
}

func usesFromEnv(md map[string]string) bool {
	for k, v := range md {
		if strings.HasSuffix(k, "FromEnv") && v != "" {
			return true
		}
	}
	return false
}

// auth resolves the referenced (Cluster)TriggerAuthentication. Later sources override earlier
// ones for the same parameter, in KEDA's order: configMaps, env, secrets, Vault, tokens.
func (r *Resolver) auth(ctx context.Context, req Request, ref *v1alpha1.AuthenticationRef, pods *podEnv) (map[string]string, error) {
	kind := v1alpha1.AuthenticationKind(ref)
	var spec *v1alpha1.TriggerAuthenticationSpec
	var err error
	ns := req.Namespace
	switch kind {
	case v1alpha1.KindTriggerAuthentication:
		spec, err = r.Auths.TriggerAuthentication(ctx, ns, ref.Name)
	case v1alpha1.KindClusterTriggerAuthentication:
		ns = r.Namespace
		spec, err = r.Auths.ClusterTriggerAuthentication(ctx, ref.Name)
	default:
		return nil, fmt.Errorf("kind: %q is not TriggerAuthentication or ClusterTriggerAuthentication", kind)
	}
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s %q not found", kind, ref.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %q: %w", kind, ref.Name, err)
	}
	out, err := r.authSpec(ctx, ns, spec, pods)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, ref.Name, err)
	}
	return out, nil
}

func (r *Resolver) authSpec(ctx context.Context, ns string, spec *v1alpha1.TriggerAuthenticationSpec, pods *podEnv) (map[string]string, error) {
	if err := unsupported(spec); err != nil {
		return nil, err
	}
	out := map[string]string{}
	spath := field.NewPath("spec")
	for i, ref := range spec.ConfigMapTargetRef {
		v, err := r.value(ctx, configMapKind, ns, v1alpha1.AuthTargetRef(ref))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spath.Child("configMapTargetRef").Index(i), err)
		}
		out[ref.Parameter] = v
	}
	for i, e := range spec.Env {
		env, err := pods.env(ctx, e.ContainerName)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spath.Child("env").Index(i), err)
		}
		v, ok := env[e.Name]
		if !ok {
			return nil, fmt.Errorf("%s: the container has no environment variable %q", spath.Child("env").Index(i), e.Name)
		}
		out[e.Parameter] = v
	}
	for i, ref := range spec.SecretTargetRef {
		v, err := r.value(ctx, secretKind, ns, v1alpha1.AuthTargetRef(ref))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spath.Child("secretTargetRef").Index(i), err)
		}
		out[ref.Parameter] = v
	}
	if spec.HashiCorpVault != nil {
		if r.Vault == nil {
			return nil, fmt.Errorf("%s: HashiCorp Vault is not supported by this poller", spath.Child("hashiCorpVault"))
		}
		vals, err := r.Vault.Read(ctx, ns, spec.HashiCorpVault)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spath.Child("hashiCorpVault"), err)
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	for i, b := range spec.BoundServiceAccountToken {
		tok, err := r.Tokens.Token(ctx, ns, b.ServiceAccountName)
		if err != nil {
			return nil, fmt.Errorf("%s: service account %q: %w", spath.Child("boundServiceAccountToken").Index(i), b.ServiceAccountName, err)
		}
		out[b.Parameter] = tok
	}
	return out, nil
}

// unsupported names the first source in spec that ebb does not read.
func unsupported(spec *v1alpha1.TriggerAuthenticationSpec) error {
	spath := field.NewPath("spec")
	if pi := spec.PodIdentity; pi != nil && pi.Provider != v1alpha1.PodIdentityProviderNone {
		return fmt.Errorf("%s: %q is not supported by ebb (only none)", spath.Child("podIdentity", "provider"), pi.Provider)
	}
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"azureKeyVault", spec.AzureKeyVault != nil},
		{"gcpSecretManager", spec.GCPSecretManager != nil},
		{"awsSecretManager", spec.AwsSecretManager != nil},
	} {
		if s.set {
			return fmt.Errorf("%s: not supported by ebb", spath.Child(s.name))
		}
	}
	return nil
}

// kind is a kind of object holding parameter values.
type kind string

const (
	secretKind    kind = "secret"
	configMapKind kind = "configMap"
)

// data reads a Secret's or ConfigMap's data as strings; errors are the reader's, unwrapped,
// so callers can tell NotFound.
func (r *Resolver) data(ctx context.Context, k kind, ns, name string) (map[string]string, error) {
	if k == configMapKind {
		return r.Secrets.ConfigMap(ctx, ns, name)
	}
	raw, err := r.Secrets.Secret(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(raw))
	for key, v := range raw {
		out[key] = string(v)
	}
	return out, nil
}

// value reads one key of a Secret or ConfigMap; a missing object or key is an error naming it.
func (r *Resolver) value(ctx context.Context, k kind, ns string, ref v1alpha1.AuthTargetRef) (string, error) {
	data, err := r.data(ctx, k, ns, ref.Name)
	if err != nil {
		return "", readErr(k, ns, ref.Name, err)
	}
	v, ok := data[ref.Key]
	if !ok {
		return "", fmt.Errorf("%s %s/%s has no key %q", k, ns, ref.Name, ref.Key)
	}
	return v, nil
}

func readErr(k kind, ns, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s/%s not found", k, ns, name)
	}
	return fmt.Errorf("read %s %s/%s: %w", k, ns, name, err)
}

// Vault reads the parameters a hashiCorpVault section maps, for an authentication whose
// Secrets live in namespace.
type Vault interface {
	Read(ctx context.Context, namespace string, v *v1alpha1.HashiCorpVault) (map[string]string, error)
}
