package actuator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator"
	"ebb.dev/services/actuator/webhook"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

// leaseNamespace holds the actuators' Lease, as ebb-system does in a real install.
const leaseNamespace = "ebb-system"

// env is one control plane with the CRDs, a bus, a decider's connection to publish decisions
// and a record of every action the actuators publish.
type env struct {
	cluster *cluster.Cluster
	// actuatorKubeconfig reaches the API server as the actuator's service account, bound to the
	// generated RBAC only: every test also checks that those rights are enough.
	actuatorKubeconfig string
	client             client.Client
	kube               kubernetes.Interface
	bus                *bustest.Bus
	decider            *bus.Conn
	actions            *actions
}

func start(t *testing.T, controllerManager bool) *env {
	t.Helper()
	c := clustertest.Start(t, cluster.Config{ControllerManager: controllerManager})
	if err := c.InstallCRDs(t.Context(), filepath.Join("..", "..", "deploy", "kustomize", "base", "crd", "bases")); err != nil {
		t.Fatal(err)
	}
	scheme, err := webhook.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(c.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	b := bustest.Start(t)
	e := &env{cluster: c, client: cl, kube: kubernetes.NewForConfigOrDie(c.RESTConfig), bus: b, decider: b.Connect(t, bus.RoleDecider)}
	e.actions = watchActions(t, b.Connect(t, bus.RoleTap))
	e.create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}})
	e.actuatorKubeconfig = e.serviceAccountKubeconfig(t)
	return e
}

// serviceAccountKubeconfig applies deploy/kustomize/base/rbac/actuator and writes a kubeconfig
// with a token of its ServiceAccount.
func (e *env) serviceAccountKubeconfig(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "deploy", "kustomize", "base", "rbac", "actuator")
	for _, f := range []string{"role.yaml", "service-account.yaml", "bindings.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var u unstructured.Unstructured
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) > 0 {
				e.create(t, &u)
			}
		}
	}
	expiry := int64(3600)
	tok, err := e.kube.CoreV1().ServiceAccounts(leaseNamespace).CreateToken(t.Context(), "ebb-actuator",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(e.cluster.ServingCAFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["ebb"] = &clientcmdapi.Cluster{Server: e.cluster.APIServerURL, CertificateAuthorityData: ca}
	cfg.AuthInfos["actuator"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["ebb"] = &clientcmdapi.Context{Cluster: "ebb", AuthInfo: "actuator"}
	cfg.CurrentContext = "ebb"
	path := filepath.Join(t.TempDir(), "actuator.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// config is an actuator config for this env: its own Lease, serving the webhook on a free
// loopback port, no metrics or health listeners.
func (e *env) config(identity string) actuator.Config {
	return actuator.Config{
		Kubeconfig:     e.actuatorKubeconfig,
		Bus:            e.bus.ClientConfig(bus.RoleActuator),
		LeaderElection: actuator.LeaderElection{Namespace: leaseNamespace, Identity: identity},
		Webhook:        webhook.Config{Addr: "127.0.0.1:0", DNSNames: []string{"localhost"}},
		MetricsAddr:    "0",
		HealthAddr:     "0",
	}
}

// runActuator runs an actuator until the test ends or stop is called; stop waits for Run to
// return. Run must not fail before that.
func (e *env) runActuator(t *testing.T, cfg actuator.Config, opts ...actuator.Option) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("actuator", cfg.LeaderElection.Identity)
	done := make(chan error, 1)
	go func() { done <- actuator.Run(ctx, cfg, logger, opts...) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("actuator %s: %v", cfg.LeaderElection.Identity, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (e *env) create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := e.client.Create(t.Context(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// namespace creates a namespace for one test.
func (e *env) namespace(t *testing.T, name string) string {
	t.Helper()
	e.create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return name
}

// update reads obj, lets change edit it and writes it, retrying on conflict.
func (e *env) update(t *testing.T, obj client.Object, change func()) {
	t.Helper()
	eventually(t, "update "+obj.GetName(), 10*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		change()
		return e.client.Update(ctx, obj) == nil, nil
	})
}

// decide publishes a decision for so (at its current UID and generation) as the decider would.
func (e *env) decide(t *testing.T, obj client.Object, kind msg.Kind, mutate func(*msg.Decision)) msg.Decision {
	t.Helper()
	if err := e.client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	d := msg.Decision{
		Object:          msg.ObjectRef{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName(), UID: string(obj.GetUID()), Generation: obj.GetGeneration()},
		PollingInterval: 30,
		DecidedAt:       time.Now(),
		Decider:         "test",
	}
	mutate(&d)
	e.publish(t, d)
	return d
}

func (e *env) publish(t *testing.T, d msg.Decision) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.decider.Publish(ctx, d); err != nil {
		t.Fatalf("publish decision: %v", err)
	}
}

// replicas waits until the target's spec.replicas is n.
func (e *env) replicas(t *testing.T, obj client.Object, n int32) {
	t.Helper()
	eventually(t, obj.GetName()+" at "+itoa(n)+" replicas", 20*time.Second, func(ctx context.Context) (bool, error) {
		got, err := e.specReplicas(ctx, obj)
		return err == nil && got == n, err
	})
}

func (e *env) specReplicas(ctx context.Context, obj client.Object) (int32, error) {
	if err := e.client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return 0, err
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return *o.Spec.Replicas, nil
	case *appsv1.StatefulSet:
		return *o.Spec.Replicas, nil
	case *unstructured.Unstructured:
		n, found, err := unstructured.NestedInt64(o.Object, "spec", "replicas")
		if !found {
			return 0, fmt.Errorf("%s has no spec.replicas (%v)", o.GetName(), err)
		}
		return int32(n), err
	}
	return 0, errors.New("not a workload")
}

// eventually polls cond every 100 ms until it holds, failing the test after within.
func eventually(t *testing.T, what string, within time.Duration, cond wait.ConditionWithContextFunc) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, within, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s (last error: %v)", what, within, last)
	}
}

// actions records every action published on the bus.
type actions struct {
	mu  sync.Mutex
	all []msg.Action
}

func watchActions(t *testing.T, tap *bus.Conn) *actions {
	t.Helper()
	a := &actions{}
	_, err := tap.Subscribe(t.Context(), tap.Prefix().All(msg.TypeAction), func(m *nats.Msg) {
		decoded, err := msg.Decode(m.Data)
		if err != nil {
			t.Errorf("undecodable action on %s: %v", m.Subject, err)
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.all = append(a.all, decoded.(msg.Action))
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// match lists the actions about obj with operation op.
func (a *actions) match(namespace, name string, op msg.Operation) []msg.Action {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []msg.Action
	for _, x := range a.all {
		if x.Object.Namespace == namespace && x.Object.Name == name && x.Operation == op {
			out = append(out, x)
		}
	}
	return out
}

// wait waits for an action about obj with operation op that ok accepts, and returns it.
func (a *actions) wait(t *testing.T, obj client.Object, op msg.Operation, ok func(msg.Action) bool) msg.Action {
	t.Helper()
	var found msg.Action
	eventually(t, "action "+string(op)+" on "+obj.GetName(), 20*time.Second, func(context.Context) (bool, error) {
		for _, x := range a.match(obj.GetNamespace(), obj.GetName(), op) {
			if ok(x) {
				found = x
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

// scaled accepts a successful scale action from one count to another.
func scaled(from, to int32) func(msg.Action) bool {
	return func(a msg.Action) bool {
		return a.Result == msg.ResultOK && a.From != nil && a.To != nil && *a.From == from && *a.To == to
	}
}

func ok(a msg.Action) bool { return a.Result == msg.ResultOK }

// events lists the reasons of the events.k8s.io Events about obj.
func (e *env) events(ctx context.Context, obj client.Object) ([]string, error) {
	list, err := e.kube.EventsV1().Events(obj.GetNamespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var reasons []string
	for _, ev := range list.Items {
		if ev.Regarding.Name == obj.GetName() && ev.Regarding.UID == obj.GetUID() {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons, nil
}

// event waits for an Event about obj with the reason.
func (e *env) event(t *testing.T, obj client.Object, reason string) {
	t.Helper()
	eventually(t, "event "+reason+" on "+obj.GetName(), 20*time.Second, func(ctx context.Context) (bool, error) {
		reasons, err := e.events(ctx, obj)
		return slices.Contains(reasons, reason), err
	})
}

// condition waits until the ScaledObject's condition t has status s.
func (e *env) condition(t *testing.T, so *v1alpha1.ScaledObject, ct v1alpha1.ConditionType, s metav1.ConditionStatus) {
	t.Helper()
	eventually(t, so.Name+" "+string(ct)+"="+string(s), 20*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.client.Get(ctx, client.ObjectKeyFromObject(so), so); err != nil {
			return false, err
		}
		c, found := so.Status.Conditions.Get(ct)
		return found && c.Status == s, nil
	})
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels),
		},
	}
}

func statefulSet(ns, name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels),
		},
	}
}

// installWidgets installs example.com/v1 Widget, a custom resource with a scale subresource.
func (e *env) installWidgets(t *testing.T) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: new(true),
				}},
				Subresources: &apiextensionsv1.CustomResourceSubresources{
					Status: &apiextensionsv1.CustomResourceSubresourceStatus{},
					Scale:  &apiextensionsv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas"},
				},
			}},
		},
	}
	crds := apiextensions.NewForConfigOrDie(e.cluster.RESTConfig).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(t.Context(), crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Widget CRD established", 20*time.Second, func(ctx context.Context) (bool, error) {
		got, err := crds.Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

func widget(ns, name string, replicas int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"replicas": replicas},
	}}
}

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "consumer:1"}}},
	}
}

// rabbitTrigger parses without credentials, as the actuator reads triggers.
func rabbitTrigger() v1alpha1.ScaleTriggers {
	return v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"queueName": "orders", "value": "5", "hostFromEnv": "RABBIT_URL"}}
}

func scaledObject(ns, name string, target *v1alpha1.ScaleTarget, mutate ...func(*v1alpha1.ScaledObject)) *v1alpha1.ScaledObject {
	so := &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.ScaledObjectSpec{ScaleTargetRef: target, MaxReplicaCount: new(int32(10)), Triggers: []v1alpha1.ScaleTriggers{rabbitTrigger()}},
	}
	for _, m := range mutate {
		m(so)
	}
	return so
}
