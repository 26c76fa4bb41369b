package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"ebb.dev/test/cluster"
)

// Namespace is where the manifests put everything namespaced of ebb.
const Namespace = "ebb-system"

// Applier server-side applies rendered objects, as `kubectl apply --server-side` does, and
// returns the warnings the API server sends with each.
type Applier struct {
	dyn      dynamic.Interface
	mapper   *restmapper.DeferredDiscoveryRESTMapper
	warnings *warnings
}

// NewApplier applies through rc.
func NewApplier(rc *rest.Config) (*Applier, error) {
	w := &warnings{}
	cfg := rest.CopyConfig(rc)
	cfg.WarningHandlerWithContext = w
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), warnings: w}, nil
}

// Apply applies o with strict field validation, only as a dry run when dryRun, and returns the
// API server's warnings. Calls must not overlap: the warnings are told apart by time.
func (a *Applier) Apply(ctx context.Context, o *unstructured.Unstructured, dryRun bool) ([]string, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("apply %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	data, err := json.Marshal(o.Object)
	if err != nil {
		return nil, err
	}
	opts := metav1.PatchOptions{FieldManager: "ebb-deploy", Force: new(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var r dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if ns := o.GetNamespace(); ns != "" {
		r = a.dyn.Resource(m.Resource).Namespace(ns)
	}
	a.warnings.take()
	if _, err := r.Patch(ctx, o.GetName(), types.ApplyPatchType, data, opts); err != nil {
		return nil, fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
	}
	return a.warnings.take(), nil
}

// ApplyRBAC creates the namespace, ServiceAccounts, Roles, ClusterRoles and bindings of overlay
// in c, so that processes run as those ServiceAccounts (see Kubeconfig) have exactly the rights
// the manifests give them.
func ApplyRBAC(t testing.TB, c *cluster.Cluster, overlay string) {
	t.Helper()
	a, err := NewApplier(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range MustObjects(t, overlay) {
		switch o.GetKind() {
		case "Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			if _, err := a.Apply(t.Context(), o, false); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Kubeconfig writes a kubeconfig that acts as ServiceAccount ebb-system/<serviceAccount> with a
// bound token valid for an hour, and returns its path (in a temp dir of t).
func Kubeconfig(t testing.TB, c *cluster.Cluster, serviceAccount string) string {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	hour := int64(3600)
	tok, err := kube.CoreV1().ServiceAccounts(Namespace).CreateToken(t.Context(), serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &hour}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token of %s: %v", serviceAccount, err)
	}
	ca, err := os.ReadFile(c.ServingCAFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["ebb"] = &clientcmdapi.Cluster{Server: c.APIServerURL, CertificateAuthorityData: ca}
	cfg.AuthInfos[serviceAccount] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["ebb"] = &clientcmdapi.Context{Cluster: "ebb", AuthInfo: serviceAccount}
	cfg.CurrentContext = "ebb"
	path := filepath.Join(t.TempDir(), serviceAccount+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// warnings records the warnings the API server sends.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// take returns the warnings seen since the last take.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen
	w.seen = nil
	return seen
}
