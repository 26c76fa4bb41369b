package deploy

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"ebb.dev/schemas/keda/v1alpha1"
	deciderkube "ebb.dev/services/decider/kube"
	pollerkube "ebb.dev/services/poller/kube"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

// TestControlPlane applies the overlays to a real API server: every object of every overlay
// passes a server-side dry-run apply with strict field validation and without a warning (the
// namespace enforces and warns on the restricted Pod Security Standard), and each
// ServiceAccount, bound by the overlay's RBAC, may do what its service needs and nothing listed
// as forbidden.
func TestControlPlane(t *testing.T) {
	c := clustertest.Start(t, cluster.Config{})
	clustertest.InstallKEDACRDs(t, c)
	a, err := NewApplier(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	objs := MustObjects(t, "default")
	// The namespace (a namespaced object cannot be dry-run into a missing one), and the
	// identities and rights the subtests below check, for real.
	ApplyRBAC(t, c, "default")

	t.Run("dry-run", func(t *testing.T) {
		for _, overlay := range Overlays() {
			t.Run(overlay, func(t *testing.T) {
				for _, o := range MustObjects(t, overlay) {
					if w := mustApply(t, a, o, true); len(w) > 0 {
						t.Errorf("%s %s: warnings %q", o.GetKind(), o.GetName(), w)
					}
				}
			})
		}
	})

	t.Run("a privileged pod template is reported", func(t *testing.T) {
		d := Workload(objs, "ebb-poller").DeepCopy()
		if err := unstructured.SetNestedField(d.Object, true, "spec", "template", "spec", "hostNetwork"); err != nil {
			t.Fatal(err)
		}
		w := mustApply(t, a, d, true)
		if len(w) == 0 || !strings.Contains(strings.Join(w, " "), "restricted") {
			t.Errorf("warnings %q: want the restricted policy's warning about hostNetwork", w)
		}
	})

	t.Run("rbac", func(t *testing.T) {
		testRBAC(t, kubernetes.NewForConfigOrDie(c.RESTConfig))
	})

	t.Run("the decider's and the poller's clients work with their rights", func(t *testing.T) {
		testServiceClients(t, c)
	})

	t.Run("a service account's kubeconfig has its rights only", func(t *testing.T) {
		kube := kubernetes.NewForConfigOrDie(restConfig(t, Kubeconfig(t, c, "ebb-poller")))
		if _, err := kube.CoreV1().Secrets("default").List(t.Context(), metav1.ListOptions{}); err != nil {
			t.Errorf("poller lists secrets: %v", err)
		}
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "x"},
				MaxReplicas:    1,
			},
		}
		_, err := kube.AutoscalingV2().HorizontalPodAutoscalers("default").Create(t.Context(), hpa, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("poller creates an HPA: %v, want forbidden", err)
		}
	})
}

// testServiceClients runs the decider's and the poller's own Kubernetes clients as their
// ServiceAccounts: every informer they start must sync, and every direct read must reach the
// object (not found here) rather than be forbidden.
func testServiceClients(t *testing.T, c *cluster.Cluster) {
	missing := func(t *testing.T, what string, err error) {
		t.Helper()
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s: %v, want not found", what, err)
		}
	}
	t.Run("decider", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		k, err := deciderkube.New(restConfig(t, Kubeconfig(t, c, "ebb-decider")))
		synced(t, ctx, k, err)
		_, err = k.Replicas(ctx, "default", v1alpha1.ScaleTarget{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "missing"})
		missing(t, "read a ReplicaSet's /scale", err)
	})
	t.Run("poller", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		k, err := pollerkube.New(restConfig(t, Kubeconfig(t, c, "ebb-poller")), pollerkube.Config{})
		synced(t, ctx, k, err)
		_, err = k.Secret(ctx, "default", "missing")
		missing(t, "read a Secret", err)
		_, err = k.ConfigMap(ctx, "default", "missing")
		missing(t, "read a ConfigMap", err)
		_, err = k.PodSpec(ctx, "default", v1alpha1.ScaleTarget{Name: "missing"})
		missing(t, "read a Deployment's pod template", err)
		if tok, err := k.Token(ctx, Namespace, "ebb-decider"); err != nil || tok == "" {
			t.Errorf("request a token: %q, %v", tok, err)
		}
	})
}

// synced starts a service's informers and waits until they have listed everything; err is
// the one from building k.
func synced(t *testing.T, ctx context.Context, k interface {
	Start(context.Context) error
	Synced(context.Context) error
}, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Synced(ctx); err != nil {
		t.Fatalf("informers: %v", err)
	}
}

func restConfig(t *testing.T, kubeconfig string) *rest.Config {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func mustApply(t *testing.T, a *Applier, o *unstructured.Unstructured, dryRun bool) []string {
	t.Helper()
	w, err := a.Apply(t.Context(), o, dryRun)
	if err != nil {
		t.Errorf("dry run %v: %v", dryRun, err)
	}
	return w
}

// access is one request a ServiceAccount makes, or must not be able to make.
type access struct {
	user    string // ServiceAccount in ebb-system, or a full user name
	attrs   authorizationv1.ResourceAttributes
	allowed bool
}

func can(user, verb, group, resource, namespace string) access {
	sub := ""
	resource, sub, _ = strings.Cut(resource, "/")
	return access{user: user, allowed: true, attrs: authorizationv1.ResourceAttributes{
		Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: namespace}}
}

func cannot(user, verb, group, resource, namespace string) access {
	a := can(user, verb, group, resource, namespace)
	a.allowed = false
	return a
}

// named narrows a to one object.
func named(a access, name string) access {
	a.attrs.Name = name
	return a
}

func testRBAC(t *testing.T, kube kubernetes.Interface) {
	const hpa = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
	tests := map[string]access{
		// The pollers read triggers, their authentications and what those name; nothing else.
		"poller watches scaled objects":                can("ebb-poller", "watch", "keda.sh", "scaledobjects", ""),
		"poller lists scaled jobs":                     can("ebb-poller", "list", "keda.sh", "scaledjobs", ""),
		"poller watches trigger authentications":       can("ebb-poller", "watch", "keda.sh", "triggerauthentications", ""),
		"poller lists cluster trigger authentications": can("ebb-poller", "list", "keda.sh", "clustertriggerauthentications", ""),
		"poller reads a secret in an app namespace":    can("ebb-poller", "get", "", "secrets", "shop"),
		"poller watches secrets":                       can("ebb-poller", "watch", "", "secrets", ""),
		"poller reads a config map":                    can("ebb-poller", "get", "", "configmaps", "shop"),
		"poller reads a deployment's pod template":     can("ebb-poller", "get", "apps", "deployments", "shop"),
		"poller reads a stateful set's pod template":   can("ebb-poller", "get", "apps", "statefulsets", "shop"),
		"poller requests a service account token":      can("ebb-poller", "create", "", "serviceaccounts/token", "shop"),
		"poller cannot patch a deployment's scale":     cannot("ebb-poller", "patch", "apps", "deployments/scale", "shop"),
		"poller cannot update a deployment's scale":    cannot("ebb-poller", "update", "apps", "deployments/scale", "shop"),
		"poller cannot update a deployment":            cannot("ebb-poller", "update", "apps", "deployments", "shop"),
		"poller cannot create an HPA":                  cannot("ebb-poller", "create", "autoscaling", "horizontalpodautoscalers", "shop"),
		"poller cannot update an HPA":                  cannot("ebb-poller", "update", "autoscaling", "horizontalpodautoscalers", "shop"),
		"poller cannot create a job":                   cannot("ebb-poller", "create", "batch", "jobs", "shop"),
		"poller cannot write scaled object status":     cannot("ebb-poller", "update", "keda.sh", "scaledobjects/status", "shop"),
		"poller cannot write a secret":                 cannot("ebb-poller", "update", "", "secrets", "shop"),

		// The deciders read; they write nothing.
		"decider watches scaled objects":             can("ebb-decider", "watch", "keda.sh", "scaledobjects", ""),
		"decider watches scaled jobs":                can("ebb-decider", "watch", "keda.sh", "scaledjobs", ""),
		"decider watches deployments":                can("ebb-decider", "watch", "apps", "deployments", ""),
		"decider watches stateful sets":              can("ebb-decider", "watch", "apps", "statefulsets", ""),
		"decider watches jobs":                       can("ebb-decider", "watch", "batch", "jobs", ""),
		"decider watches pods":                       can("ebb-decider", "watch", "", "pods", ""),
		"decider reads any kind's scale":             can("ebb-decider", "get", "argoproj.io", "rollouts/scale", "shop"),
		"decider cannot update a deployment's scale": cannot("ebb-decider", "update", "apps", "deployments/scale", "shop"),
		"decider cannot patch a deployment's scale":  cannot("ebb-decider", "patch", "apps", "deployments/scale", "shop"),
		"decider cannot create an HPA":               cannot("ebb-decider", "create", "autoscaling", "horizontalpodautoscalers", "shop"),
		"decider cannot create a job":                cannot("ebb-decider", "create", "batch", "jobs", "shop"),
		"decider cannot delete a pod":                cannot("ebb-decider", "delete", "", "pods", "shop"),
		"decider cannot write scaled object status":  cannot("ebb-decider", "update", "keda.sh", "scaledobjects/status", "shop"),
		"decider cannot patch a scaled object":       cannot("ebb-decider", "patch", "keda.sh", "scaledobjects", "shop"),
		"decider cannot create an event":             cannot("ebb-decider", "create", "events.k8s.io", "events", "shop"),
		"decider cannot take a lease":                cannot("ebb-decider", "create", "coordination.k8s.io", "leases", "ebb-system"),
		"decider cannot read a secret":               cannot("ebb-decider", "get", "", "secrets", "shop"),

		// The actuator writes what decisions need, and reads no Secret but the webhook's.
		"actuator updates a deployment's scale":        can("ebb-actuator", "update", "apps", "deployments/scale", "shop"),
		"actuator creates an HPA":                      can("ebb-actuator", "create", "autoscaling", "horizontalpodautoscalers", "shop"),
		"actuator updates an HPA":                      can("ebb-actuator", "update", "autoscaling", "horizontalpodautoscalers", "shop"),
		"actuator creates a job":                       can("ebb-actuator", "create", "batch", "jobs", "shop"),
		"actuator writes scaled object status":         can("ebb-actuator", "update", "keda.sh", "scaledobjects/status", "shop"),
		"actuator writes scaled job status":            can("ebb-actuator", "update", "keda.sh", "scaledjobs/status", "shop"),
		"actuator records an event":                    can("ebb-actuator", "create", "events.k8s.io", "events", "shop"),
		"actuator takes its lease":                     can("ebb-actuator", "update", "coordination.k8s.io", "leases", "ebb-system"),
		"actuator keeps the webhook's CA bundle":       can("ebb-actuator", "update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""),
		"actuator cannot read a secret":                cannot("ebb-actuator", "get", "", "secrets", "shop"),
		"actuator cannot list secrets":                 cannot("ebb-actuator", "list", "", "secrets", ""),
		"actuator cannot read its own bus password":    cannot("ebb-actuator", "get", "", "secrets", "ebb-system"),
		"actuator reads the webhook's certificates":    named(can("ebb-actuator", "get", "", "secrets", "ebb-system"), "ebb-webhook-certs"),
		"actuator renews the webhook's certificates":   named(can("ebb-actuator", "update", "", "secrets", "ebb-system"), "ebb-webhook-certs"),
		"actuator creates the webhook's Secret":        can("ebb-actuator", "create", "", "secrets", "ebb-system"),
		"actuator cannot read another ebb Secret":      named(cannot("ebb-actuator", "get", "", "secrets", "ebb-system"), "ebb-bus-actuator"),
		"actuator cannot update another ebb Secret":    named(cannot("ebb-actuator", "update", "", "secrets", "ebb-system"), "ebb-bus-actuator"),
		"actuator cannot list ebb's Secrets":           cannot("ebb-actuator", "list", "", "secrets", "ebb-system"),
		"actuator cannot watch ebb's Secrets":          cannot("ebb-actuator", "watch", "", "secrets", "ebb-system"),
		"actuator cannot delete the webhook's Secret":  named(cannot("ebb-actuator", "delete", "", "secrets", "ebb-system"), "ebb-webhook-certs"),
		"actuator cannot create a Secret elsewhere":    cannot("ebb-actuator", "create", "", "secrets", "shop"),
		"actuator cannot read a same-named Secret":     named(cannot("ebb-actuator", "get", "", "secrets", "shop"), "ebb-webhook-certs"),
		"actuator cannot take a lease elsewhere":       cannot("ebb-actuator", "update", "coordination.k8s.io", "leases", "kube-system"),
		"actuator cannot delete a deployment":          cannot("ebb-actuator", "delete", "apps", "deployments", "shop"),
		"actuator cannot request a token":              cannot("ebb-actuator", "create", "", "serviceaccounts/token", "shop"),
		"actuator cannot update a deployment outright": cannot("ebb-actuator", "update", "apps", "deployments", "shop"),

		// metrics-api authenticates and authorizes the aggregator's requests; nothing else.
		"metrics-api reviews tokens":                            can("ebb-metrics-api", "create", "authentication.k8s.io", "tokenreviews", ""),
		"metrics-api reviews access":                            can("ebb-metrics-api", "create", "authorization.k8s.io", "subjectaccessreviews", ""),
		"metrics-api reads the request-header CA":               named(can("ebb-metrics-api", "get", "", "configmaps", "kube-system"), "extension-apiserver-authentication"),
		"metrics-api watches the request-header CA":             named(can("ebb-metrics-api", "watch", "", "configmaps", "kube-system"), "extension-apiserver-authentication"),
		"metrics-api cannot read other kube-system config maps": named(cannot("ebb-metrics-api", "get", "", "configmaps", "kube-system"), "kubeadm-config"),
		"metrics-api cannot read a secret":                      cannot("ebb-metrics-api", "get", "", "secrets", "shop"),
		"metrics-api cannot read its bus password":              cannot("ebb-metrics-api", "get", "", "secrets", "ebb-system"),
		"metrics-api cannot list secrets":                       cannot("ebb-metrics-api", "list", "", "secrets", ""),
		"metrics-api cannot read app config maps":               cannot("ebb-metrics-api", "get", "", "configmaps", "shop"),
		"metrics-api cannot read scaled objects":                cannot("ebb-metrics-api", "get", "keda.sh", "scaledobjects", "shop"),
		"metrics-api cannot update a deployment's scale":        cannot("ebb-metrics-api", "update", "apps", "deployments/scale", "shop"),

		// The bus never calls the API server.
		"bus cannot read config maps": cannot("ebb-bus", "get", "", "configmaps", "ebb-system"),
		"bus cannot read secrets":     cannot("ebb-bus", "get", "", "secrets", "ebb-system"),

		// The HPA controller reads external metrics through the bootstrap policy.
		"HPA controller reads external metrics": can(hpa, "get", "external.metrics.k8s.io", "s0-rabbitmq-orders", "shop"),
		"HPA controller lists external metrics": can(hpa, "list", "external.metrics.k8s.io", "s0-rabbitmq-orders", "shop"),
		"HPA controller cannot read secrets":    cannot(hpa, "get", "", "secrets", "shop"),
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			user, groups := tc.user, []string{"system:authenticated"}
			if !strings.HasPrefix(user, "system:") {
				user = "system:serviceaccount:ebb-system:" + user
			}
			if ns, _, ok := strings.Cut(strings.TrimPrefix(user, "system:serviceaccount:"), ":"); ok {
				groups = append(groups, "system:serviceaccounts", "system:serviceaccounts:"+ns)
			}
			attrs := tc.attrs
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, Groups: groups, ResourceAttributes: &attrs}}
			got, err := kube.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != tc.allowed {
				t.Errorf("%s %s %+v: allowed %v (%s), want %v", user, attrs.Verb, attrs, got.Status.Allowed, got.Status.Reason, tc.allowed)
			}
		})
	}
}
