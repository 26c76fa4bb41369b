package resolve_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/resolve"
	"ebb.dev/services/poller/resolve/resolvetest"
)

const (
	ns    = "shop"
	ebbNS = "ebb-system"
)

// cluster is what every case resolves against: a workload whose container reads literals,
// a Secret, a ConfigMap and envFrom; authentications of every supported kind.
func cluster() *resolvetest.Cluster {
	c := &resolvetest.Cluster{}
	c.PutSecret(ns, "creds", map[string]string{"password": "s3cret", "host": "amqp://mq"})
	c.PutSecret(ebbNS, "shared", map[string]string{"password": "from-ebb-namespace"})
	c.PutSecret(ns, "shared", map[string]string{"password": "from-workload-namespace"})
	c.PutConfigMap(ns, "settings", map[string]string{"queue": "orders", "vhost": "/prod"})
	c.PutToken(ns, "reader", "token-of-reader")
	yes := true
	c.PutWorkload(ns, "app", corev1.PodSpec{Containers: []corev1.Container{
		{
			Name:    "main",
			EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
			Env: []corev1.EnvVar{
				{Name: "QUEUE", Value: "jobs"},
				{Name: "FULL", Value: "$(QUEUE)-high $$(QUEUE) $(NOPE)"},
				{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
				{Name: "VHOST", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "vhost"}}},
				{Name: "OPTIONAL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "x", Optional: &yes}}},
				{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
		},
		{Name: "sidecar", Env: []corev1.EnvVar{{Name: "QUEUE", Value: "sidecar-queue"}}},
	}})
	c.PutTriggerAuthentication(ns, "secret-auth", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "creds", Key: "password"}},
	})
	c.PutTriggerAuthentication(ns, "cm-auth", v1alpha1.TriggerAuthenticationSpec{
		ConfigMapTargetRef: []v1alpha1.AuthConfigMapTargetRef{{Parameter: "vhostName", Name: "settings", Key: "vhost"}, {Parameter: "password", Name: "settings", Key: "queue"}},
		SecretTargetRef:    []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "creds", Key: "password"}},
	})
	c.PutTriggerAuthentication(ns, "env-auth", v1alpha1.TriggerAuthenticationSpec{
		Env:         []v1alpha1.AuthEnvironment{{Parameter: "password", Name: "PASSWORD"}, {Parameter: "queue", Name: "QUEUE", ContainerName: "sidecar"}},
		PodIdentity: &v1alpha1.AuthPodIdentity{Provider: v1alpha1.PodIdentityProviderNone},
	})
	c.PutTriggerAuthentication(ns, "token-auth", v1alpha1.TriggerAuthenticationSpec{
		BoundServiceAccountToken: []v1alpha1.BoundServiceAccountToken{{Parameter: "token", ServiceAccountName: "reader"}},
	})
	c.PutTriggerAuthentication(ns, "missing-secret", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "host", Name: "creds", Key: "host"}, {Parameter: "password", Name: "gone", Key: "password"}},
	})
	c.PutTriggerAuthentication(ns, "missing-key", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "creds", Key: "pasword"}},
	})
	c.PutTriggerAuthentication(ns, "aws", v1alpha1.TriggerAuthenticationSpec{PodIdentity: &v1alpha1.AuthPodIdentity{Provider: v1alpha1.PodIdentityProviderAws}})
	c.PutTriggerAuthentication(ns, "vault", v1alpha1.TriggerAuthenticationSpec{HashiCorpVault: &v1alpha1.HashiCorpVault{Address: "https://vault:8200"}})
	c.PutTriggerAuthentication("", "cluster-auth", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "shared", Key: "password"}},
	})
	return c
}

func TestParams(t *testing.T) {
	tests := map[string]struct {
		trigger   v1alpha1.ScaleTriggers
		container string
		wantAuth  map[string]string
		wantEnv   map[string]string
		wantErr   string
	}{
		"metadata only reads nothing else": {
			trigger: v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"queueName": "q"}},
		},
		"FromEnv reads the first container, envFrom then env, expanded": {
			trigger: v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"hostFromEnv": "PASSWORD"}},
			wantEnv: map[string]string{
				"CM_queue": "orders", "CM_vhost": "/prod", "QUEUE": "jobs", "FULL": "jobs-high $(QUEUE) $(NOPE)",
				"PASSWORD": "s3cret", "VHOST": "/prod",
			},
		},
		"FromEnv reads envSourceContainerName": {
			trigger:   v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"queueNameFromEnv": "QUEUE"}},
			container: "sidecar",
			wantEnv:   map[string]string{"QUEUE": "sidecar-queue"},
		},
		"FromEnv with a container the pod lacks": {
			trigger:   v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"queueNameFromEnv": "QUEUE"}},
			container: "worker",
			wantErr:   `spec.triggers[0].metadata: the pod template has no container "worker"`,
		},
		"TriggerAuthentication secretTargetRef": {
			trigger:  withAuth("secret-auth", ""),
			wantAuth: map[string]string{"password": "s3cret"},
		},
		"a Secret overrides a ConfigMap for the same parameter": {
			trigger:  withAuth("cm-auth", ""),
			wantAuth: map[string]string{"vhostName": "/prod", "password": "s3cret"},
		},
		"TriggerAuthentication env, podIdentity none": {
			trigger:  withAuth("env-auth", ""),
			wantAuth: map[string]string{"password": "s3cret", "queue": "sidecar-queue"},
		},
		"boundServiceAccountToken": {
			trigger:  withAuth("token-auth", ""),
			wantAuth: map[string]string{"token": "token-of-reader"},
		},
		"ClusterTriggerAuthentication reads ebb's namespace, not the workload's": {
			trigger:  withAuth("cluster-auth", v1alpha1.KindClusterTriggerAuthentication),
			wantAuth: map[string]string{"password": "from-ebb-namespace"},
		},
		"missing TriggerAuthentication": {
			trigger: withAuth("nope", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "nope" not found`,
		},
		"missing Secret names the field and the Secret": {
			trigger: withAuth("missing-secret", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "missing-secret": spec.secretTargetRef[1]: secret shop/gone not found`,
		},
		"missing key names the key": {
			trigger: withAuth("missing-key", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "missing-key": spec.secretTargetRef[0]: secret shop/creds has no key "pasword"`,
		},
		"a pod identity provider other than none": {
			trigger: withAuth("aws", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "aws": spec.podIdentity.provider: "aws" is not supported by ebb (only none)`,
		},
		"Vault without a Vault client": {
			trigger: withAuth("vault", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "vault": spec.hashiCorpVault: HashiCorp Vault is not supported by this poller`,
		},
		"an unknown authentication kind": {
			trigger: withAuth("x", "SecretStore"),
			wantErr: `spec.triggers[0].authenticationRef: kind: "SecretStore" is not TriggerAuthentication or ClusterTriggerAuthentication`,
		},
	}
	r := cluster().Resolver(ebbNS)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := resolve.Request{
				Namespace: ns, Trigger: tc.trigger, Path: field.NewPath("spec", "triggers").Index(0),
				ScaleTarget: &v1alpha1.ScaleTarget{Name: "app"}, Container: tc.container,
			}
			got, err := r.Params(context.Background(), req)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Params error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Params: %v", err)
			}
			want := trigger.Params{Metadata: tc.trigger.Metadata, Auth: tc.wantAuth, Env: tc.wantEnv}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Params (-want +got):\n%s", diff)
			}
		})
	}
}

func withAuth(name, kind string) v1alpha1.ScaleTriggers {
	return v1alpha1.ScaleTriggers{
		Type: "rabbitmq", Metadata: map[string]string{"queueName": "q"},
		AuthenticationRef: &v1alpha1.AuthenticationRef{Name: name, Kind: kind},
	}
}

func TestParamsScaledJobReadsItsOwnTemplate(t *testing.T) {
	r := cluster().Resolver(ebbNS)
	req := resolve.Request{
		Namespace: ns, Path: field.NewPath("spec", "triggers").Index(0),
		Trigger: v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"hostFromEnv": "HOST"}},
		PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Env: []corev1.EnvVar{{Name: "HOST", Value: "amqp://job"}}}}},
	}
	got, err := r.Params(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"HOST": "amqp://job"}, got.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
}

func TestRedact(t *testing.T) {
	p := trigger.Params{Auth: map[string]string{"password": "p@ss word/1", "short": "ab"}, Env: map[string]string{"TOKEN": "tok3n"}}
	tests := map[string]struct{ in, want string }{
		"as written":          {in: "login p@ss word/1 refused", want: "login [redacted] refused"},
		"query escaped":       {in: "GET /?pw=p%40ss+word%2F1", want: "GET /?pw=[redacted]"},
		"in a URL's userinfo": {in: "dial amqp://u:p%40ss%20word%2F1@mq", want: "dial amqp://u:[redacted]@mq"},
		"from the env":        {in: "bad token tok3n", want: "bad token [redacted]"},
		"short values stay":   {in: "ab cd", want: "ab cd"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := resolve.Redact(tc.in, p); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
