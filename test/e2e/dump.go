package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The resources the scenarios create; dumped are those a failed scenario shows, as
// `kubectl get so,sj,hpa,deploy,jobs -o yaml` would.
var (
	scaledObjects          = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
	scaledJobs             = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledjobs"}
	triggerAuthentications = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "triggerauthentications"}
	hpas                   = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	deployments            = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	jobResources           = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	dumped                 = []schema.GroupVersionResource{scaledObjects, scaledJobs, hpas, deployments, jobResources}
)

// Namespace creates a namespace for one scenario; if the scenario fails, it prints the
// namespace's bus timeline and its objects.
func (s *Stack) Namespace(t testing.TB, name string) {
	t.Helper()
	s.CreateNamespace(t, name)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		timeline, err := s.Tap(ctx, "-namespace", name)
		t.Logf("--- bus timeline of %s (ebb tap, err %v)\n%s", name, err, timeline)
		t.Logf("--- objects in %s\n%s", name, s.Objects(ctx, name))
	})
}

// CreateNamespace creates a namespace.
func (s *Stack) CreateNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := s.Kube.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Objects renders the ScaledObjects, ScaledJobs, HPAs, Deployments and Jobs of a namespace
// as YAML, without managed fields and pod templates: what a reader needs to see why a
// scenario stalled.
func (s *Stack) Objects(ctx context.Context, namespace string) string {
	var b strings.Builder
	for _, gvr := range dumped {
		list, err := s.Dynamic.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			fmt.Fprintf(&b, "# %s: %v\n", gvr.Resource, err)
			continue
		}
		for _, item := range list.Items {
			b.WriteString("---\n")
			b.WriteString(render(item))
		}
	}
	return b.String()
}

func render(u unstructured.Unstructured) string {
	obj := u.DeepCopy()
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(obj.Object, "spec", "template")
	unstructured.RemoveNestedField(obj.Object, "spec", "jobTargetRef", "template")
	out, err := yaml.Marshal(obj.Object)
	if err != nil {
		return fmt.Sprintf("# %s %s: %v\n", obj.GetKind(), obj.GetName(), err)
	}
	return string(out)
}
