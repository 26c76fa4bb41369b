package poller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/kube"
	"ebb.dev/services/poller/resolve"
)

// TestResolveAgainstTheAPIServer resolves triggers from real Secrets, ConfigMaps, workloads,
// service accounts and authentications, read through the poller's informers.
func TestResolveAgainstTheAPIServer(t *testing.T) {
	e := start(t)
	ns := e.namespace(t, "creds")
	envFromSecret := &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "mq"}, Key: "password"}}
	e.create(t,
		secret(ns, "mq", map[string]string{"username": "app", "password": "s3cret"}),
		secret(ns, "shared", map[string]string{"password": "from-workload-namespace"}),
		secret(ebbNamespace, "shared", map[string]string{"password": "from-ebb-namespace"}),
		configMap(ns, "mq-settings", map[string]string{"host": "http://mq:15672", "vhost": "/prod"}),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reader"}},
		deployment(ns, "app", corev1.Container{
			Name:    "main",
			EnvFrom: []corev1.EnvFromSource{{Prefix: "MQ_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "mq-settings"}}}},
			Env:     []corev1.EnvVar{{Name: "QUEUE", Value: "orders"}, {Name: "PASSWORD", ValueFrom: envFromSecret}},
		}),
		triggerAuth(ns, "secret-ta", v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
			{Parameter: "username", Name: "mq", Key: "username"}, {Parameter: "password", Name: "mq", Key: "password"},
		}}),
		triggerAuth(ns, "cm-ta", v1alpha1.TriggerAuthenticationSpec{ConfigMapTargetRef: []v1alpha1.AuthConfigMapTargetRef{
			{Parameter: "host", Name: "mq-settings", Key: "host"},
		}}),
		triggerAuth(ns, "env-ta", v1alpha1.TriggerAuthenticationSpec{
			Env:         []v1alpha1.AuthEnvironment{{Parameter: "password", Name: "PASSWORD"}},
			PodIdentity: &v1alpha1.AuthPodIdentity{Provider: v1alpha1.PodIdentityProviderNone},
		}),
		triggerAuth(ns, "token-ta", v1alpha1.TriggerAuthenticationSpec{BoundServiceAccountToken: []v1alpha1.BoundServiceAccountToken{
			{Parameter: "token", ServiceAccountName: "reader"},
		}}),
		triggerAuth(ns, "missing-secret-ta", v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
			{Parameter: "password", Name: "mq-old", Key: "password"},
		}}),
		&v1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: "cluster-ta"}, Spec: v1alpha1.TriggerAuthenticationSpec{
			SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "shared", Key: "password"}},
		}},
	)
	k, err := kube.New(e.cluster.RESTConfig, kube.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := k.Synced(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := &resolve.Resolver{Secrets: k, Auths: k, Workloads: k, Tokens: k, Namespace: ebbNamespace}
	params := func(ctx context.Context, tr v1alpha1.ScaleTriggers) (trigger.Params, error) {
		return r.Params(ctx, resolve.Request{
			Namespace: ns, Trigger: tr, Path: field.NewPath("spec", "triggers").Index(0),
			ScaleTarget: &v1alpha1.ScaleTarget{Name: "app"},
		})
	}
	withAuth := func(name, kind string, md ...string) v1alpha1.ScaleTriggers {
		tr := v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"queueName": "orders"}}
		for i := 0; i+1 < len(md); i += 2 {
			tr.Metadata[md[i]] = md[i+1]
		}
		if name != "" {
			tr.AuthenticationRef = &v1alpha1.AuthenticationRef{Name: name, Kind: kind}
		}
		return tr
	}
	podEnv := map[string]string{"MQ_host": "http://mq:15672", "MQ_vhost": "/prod", "QUEUE": "orders", "PASSWORD": "s3cret"}
	tests := map[string]struct {
		trigger  v1alpha1.ScaleTriggers
		wantAuth map[string]string
		wantEnv  map[string]string
		wantErr  string
	}{
		"metadata alone": {trigger: withAuth("", "", "host", "http://mq:15672")},
		"FromEnv reads the workload's container, ConfigMap and Secret refs included": {
			trigger: withAuth("", "", "hostFromEnv", "MQ_host"), wantEnv: podEnv,
		},
		"TriggerAuthentication secretTargetRef": {
			trigger: withAuth("secret-ta", ""), wantAuth: map[string]string{"username": "app", "password": "s3cret"},
		},
		"TriggerAuthentication configMapTargetRef": {
			trigger: withAuth("cm-ta", ""), wantAuth: map[string]string{"host": "http://mq:15672"},
		},
		"TriggerAuthentication env": {
			trigger: withAuth("env-ta", ""), wantAuth: map[string]string{"password": "s3cret"},
		},
		"ClusterTriggerAuthentication reads ebb's namespace": {
			trigger: withAuth("cluster-ta", v1alpha1.KindClusterTriggerAuthentication), wantAuth: map[string]string{"password": "from-ebb-namespace"},
		},
		"a missing Secret names the field": {
			trigger: withAuth("missing-secret-ta", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "missing-secret-ta": spec.secretTargetRef[0]: secret creds/mq-old not found`,
		},
		"a missing TriggerAuthentication": {
			trigger: withAuth("nope", ""),
			wantErr: `spec.triggers[0].authenticationRef: TriggerAuthentication "nope" not found`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := params(t.Context(), tc.trigger)
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

	t.Run("boundServiceAccountToken is a token the API server issued for the account", func(t *testing.T) {
		got, err := params(t.Context(), withAuth("token-ta", ""))
		if err != nil {
			t.Fatal(err)
		}
		tok := got.Auth["token"]
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("token %q is not a JWT", tok)
		}
		review := authReview(t, e, tok)
		if want := "system:serviceaccount:" + ns + ":reader"; review != want {
			t.Errorf("token authenticates as %q, want %q", review, want)
		}
	})

	t.Run("a rotated Secret shows at the next resolution", func(t *testing.T) {
		s := secret(ns, "mq", map[string]string{"username": "app", "password": "rotated"})
		if err := e.client.Update(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the new password", 5*time.Second, func(ctx context.Context) (bool, error) {
			got, err := params(ctx, withAuth("secret-ta", ""))
			return err == nil && got.Auth["password"] == "rotated", err
		})
	})
}

// authReview asks the API server whom tok authenticates.
func authReview(t *testing.T, e *env, tok string) string {
	t.Helper()
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tok}}
	if err := e.client.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated {
		t.Fatalf("token not authenticated: %s", tr.Status.Error)
	}
	return tr.Status.User.Username
}
