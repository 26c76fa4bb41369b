package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"ebb.dev/schemas/trigger"
	"ebb.dev/services/actuator/webhook"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

const (
	namespace     = "shop"
	configuration = "ebb-admission"
)

// env is one control plane with the CRDs installed and the webhook registered.
type env struct {
	cluster *cluster.Cluster
	kube    kubernetes.Interface
	dynamic dynamic.Interface
}

var resources = map[string]string{
	"ScaledObject":                 "scaledobjects",
	"ScaledJob":                    "scaledjobs",
	"TriggerAuthentication":        "triggerauthentications",
	"ClusterTriggerAuthentication": "clustertriggerauthentications",
}

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

// start brings up the control plane, installs the CRDs from deploy/, serves the webhook on
// 127.0.0.1 and registers the generated webhook configuration pointed at it by URL.
func start(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	registerWebhook(t, e, "https://"+ln.Addr().String())
	serveWebhook(t, e.cluster, ln, webhookConfig())
	waitForWebhook(t, e)
	return e
}

// newEnv brings up the control plane with the CRDs from deploy/, ebb's namespace (where the
// webhook keeps its certificates) and the test namespace.
func newEnv(t *testing.T) *env {
	t.Helper()
	c := clustertest.Start(t, cluster.Config{})
	e := &env{cluster: c, kube: kubernetes.NewForConfigOrDie(c.RESTConfig), dynamic: dynamic.NewForConfigOrDie(c.RESTConfig)}
	clustertest.InstallKEDACRDs(t, c)
	for _, ns := range []string{webhook.DefaultSecretNamespace, namespace} {
		if _, err := e.kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// registerWebhook creates the generated configuration with every webhook called by URL and no
// caBundle: the server must publish its CA itself.
func registerWebhook(t *testing.T, e *env, base string) {
	t.Helper()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	readYAML(t, repoPath("deploy", "kustomize", "base", "webhook", "manifests.yaml"), &vwc)
	vwc.Name = configuration
	for i := range vwc.Webhooks {
		url := base + *vwc.Webhooks[i].ClientConfig.Service.Path
		vwc.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url}
	}
	if len(vwc.Webhooks) != 4 {
		t.Fatalf("generated configuration has %d webhooks, want 4", len(vwc.Webhooks))
	}
	if _, err := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(t.Context(), &vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// webhookConfig serves 127.0.0.1, keeps the certificates in the default Secret and publishes
// the CA to the test's configuration every second.
func webhookConfig() webhook.Config {
	return webhook.Config{DNSNames: []string{"127.0.0.1"}, ConfigurationName: configuration, Resync: time.Second}
}

// serveWebhook serves the webhook on ln with cfg until the test ends.
func serveWebhook(t *testing.T, c *cluster.Cluster, ln net.Listener, cfg webhook.Config, opts ...webhook.Option) *webhook.Server {
	t.Helper()
	client, err := webhook.NewClient(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := webhook.New(cfg, client, trigger.Builtin(), logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("webhook server: %v", err)
		}
	})
	return srv
}

// waitForWebhook waits until the caBundle is published and the API server calls the webhook:
// an incomplete Vault setting passes the schema, so only the webhook can deny it.
func waitForWebhook(t *testing.T, e *env) {
	t.Helper()
	poll(t, "caBundle published in every webhook", func(ctx context.Context) (bool, error) {
		vwc, err := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, configuration, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, w := range vwc.Webhooks {
			if !bytes.Contains(w.ClientConfig.CABundle, []byte("BEGIN CERTIFICATE")) {
				return false, nil
			}
		}
		return true, nil
	})
	probe := manifest(t, `
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata: {name: probe}
spec: {hashiCorpVault: {address: "https://vault:8200", authentication: token, secrets: [{parameter: p, path: x, key: k}]}}`)
	poll(t, "webhook answering", func(ctx context.Context) (bool, error) {
		err := e.create(ctx, probe)
		if err == nil {
			return false, errors.New("the API server admitted an object the webhook must deny")
		}
		return strings.Contains(err.Error(), "credential.token: Required value"), nil
	})
}

// create sends one object; namespaced kinds go to the test namespace.
func (e *env) create(ctx context.Context, obj *unstructured.Unstructured) error {
	_, err := e.resource(obj).Create(ctx, obj, metav1.CreateOptions{})
	return err
}

func (e *env) get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return e.resource(obj).Get(ctx, obj.GetName(), metav1.GetOptions{})
}

func (e *env) resource(obj *unstructured.Unstructured) dynamic.ResourceInterface {
	gvr := schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: resources[obj.GetKind()]}
	if obj.GetKind() == "ClusterTriggerAuthentication" {
		return e.dynamic.Resource(gvr)
	}
	return e.dynamic.Resource(gvr).Namespace(namespace)
}

// deployment is a workload a ScaledObject can target; requests sets cpu and memory requests.
func (e *env) deployment(t *testing.T, name string, requests bool) {
	t.Helper()
	c := corev1.Container{Name: "app", Image: "busybox"}
	if requests {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	}
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}},
		},
	}
	if _, err := e.kube.AppsV1().Deployments(namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// manifests reads every YAML document of a file.
func manifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		if obj != nil {
			out = append(out, withIntegers(t, obj))
		}
	}
}

func manifest(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatalf("manifest: %v\n%s", err, doc)
	}
	return withIntegers(t, obj)
}

// withIntegers re-reads obj the way the API machinery does, so whole numbers are int64 as in
// objects read back from the server.
func withIntegers(t *testing.T, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return u
}

func poll(t *testing.T, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}
