package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"ebb.dev/test/cluster/clustertest"
)

// Overlays are the directories under deploy/kustomize/overlays: the supported installs.
func Overlays() []string { return []string{"default", "ha", "per-source-pollers"} }

// credentialFile matches the bus password files a kustomization reads, as
// hack/bus-credentials.sh finds them.
var credentialFile = regexp.MustCompile(`credentials/[A-Za-z0-9_-]+\.password`)

// TestPassword is the password Objects puts in the credentials file of user.
func TestPassword(user string) string { return "test-password-of-" + user }

// Dir is deploy/kustomize of the checkout the test runs in.
func Dir(t testing.TB) string {
	t.Helper()
	return filepath.Join(clustertest.RepoRoot(t), "deploy", "kustomize")
}

// Objects builds overlay from the kustomize tree dir (deploy/kustomize) as `kustomize build`
// does, in its (legacy) order. Every credentials/<user>.password file holds TestPassword(user),
// whatever is on disk, so the output is the same on every machine and never holds a real password.
func Objects(dir, overlay string) ([]*unstructured.Unstructured, error) {
	m, err := build(dir, overlay)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, r := range m.Resources() {
		// Through JSON, so numbers are int64 and float64 as unstructured expects.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("overlay %s: %s: %w", overlay, r.CurId(), err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("overlay %s: %s: %w", overlay, r.CurId(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// MustObjects is Objects of the checkout the test runs in; it fails t on error.
func MustObjects(t testing.TB, overlay string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Objects(Dir(t), overlay)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// Args returns the container arguments of a service in overlay as the manifests give them: the
// subcommand first (e.g. "poller"), then the flags. service names the workload ebb-<service>,
// a Deployment or StatefulSet: "poller", "decider", "actuator", "metrics-api", "bus", or e.g.
// "poller-kafka" in per-source-pollers. $(VAR) references, which Kubernetes expands from the
// container's environment, are returned as written. It fails t when there is no such workload.
func Args(t testing.TB, overlay, service string) []string {
	t.Helper()
	args, err := ContainerArgs(MustObjects(t, overlay), service)
	if err != nil {
		t.Fatalf("overlay %s: %v", overlay, err)
	}
	return args
}

// ContainerArgs are the arguments of service's container (workload ebb-<service>) in objs,
// with $(VAR) references to the container's env expanded as the kubelet would for the first
// pod (a fieldRef to metadata.name gives ebb-<service>-0).
func ContainerArgs(objs []*unstructured.Unstructured, service string) ([]string, error) {
	c, err := Container(objs, "ebb-"+service)
	if err != nil {
		return nil, err
	}
	args, _, err := unstructured.NestedStringSlice(c, "args")
	if err != nil {
		return nil, fmt.Errorf("%s args: %w", service, err)
	}
	env, err := containerEnv(c, "ebb-"+service+"-0")
	if err != nil {
		return nil, fmt.Errorf("%s env: %w", service, err)
	}
	for i, a := range args {
		args[i] = expand(a, env)
	}
	return args, nil
}

// containerEnv is the values of a container's env that args may refer to: literal values and
// the pod's name; other sources (resources, Secrets) are left unexpanded.
func containerEnv(c map[string]any, podName string) (map[string]string, error) {
	vars, _, err := unstructured.NestedSlice(c, "env")
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, v := range vars {
		m, _ := v.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		if value, ok, _ := unstructured.NestedString(m, "value"); ok {
			env[name] = value
		}
		if path, _, _ := unstructured.NestedString(m, "valueFrom", "fieldRef", "fieldPath"); path == "metadata.name" {
			env[name] = podName
		}
	}
	return env, nil
}

// expand replaces $(VAR) with env[VAR] where env has it, as Kubernetes expands container args.
func expand(arg string, env map[string]string) string {
	for name, value := range env {
		arg = strings.ReplaceAll(arg, "$("+name+")", value)
	}
	return arg
}

// ServiceAccount is the ServiceAccount that service's pods (workload ebb-<service>) in objs run as.
func ServiceAccount(objs []*unstructured.Unstructured, service string) (string, error) {
	w := Workload(objs, "ebb-"+service)
	if w == nil {
		return "", fmt.Errorf("no Deployment or StatefulSet ebb-%s", service)
	}
	sa, _, err := unstructured.NestedString(w.Object, "spec", "template", "spec", "serviceAccountName")
	if err != nil || sa == "" {
		return "", fmt.Errorf("%s ebb-%s: no serviceAccountName (%v)", w.GetKind(), service, err)
	}
	return sa, nil
}

// Container returns the one container of the Deployment or StatefulSet named name.
func Container(objs []*unstructured.Unstructured, name string) (map[string]any, error) {
	w := Workload(objs, name)
	if w == nil {
		return nil, fmt.Errorf("no Deployment or StatefulSet %s", name)
	}
	cs, _, err := unstructured.NestedSlice(w.Object, "spec", "template", "spec", "containers")
	if err != nil || len(cs) != 1 {
		return nil, fmt.Errorf("%s %s: want one container, got %d (%v)", w.GetKind(), name, len(cs), err)
	}
	c, ok := cs[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s: container is a %T", w.GetKind(), name, cs[0])
	}
	return c, nil
}

// Workload returns the Deployment or StatefulSet named name, or nil.
func Workload(objs []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if IsWorkload(o) && o.GetName() == name {
			return o
		}
	}
	return nil
}

// IsWorkload reports whether o is a Deployment or StatefulSet.
func IsWorkload(o *unstructured.Unstructured) bool {
	return o.GetAPIVersion() == "apps/v1" && (o.GetKind() == "Deployment" || o.GetKind() == "StatefulSet")
}

// build runs kustomize on a copy of dir in memory, with test passwords in the credentials files.
func build(dir, overlay string) (resmap.ResMap, error) {
	const root = "/kustomize"
	mem := filesys.MakeFsInMemory()
	if err := copyTree(dir, mem, root); err != nil {
		return nil, err
	}
	if err := testCredentials(mem, root); err != nil {
		return nil, err
	}
	return kustomize(mem, root, overlay)
}

// copyTree copies the tree at src to root in dst, leaving out password files.
func copyTree(src string, dst filesys.FileSystem, root string) error {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || strings.HasSuffix(path, ".password") {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return dst.MkdirAll(filepath.Join(root, rel))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return dst.WriteFile(filepath.Join(root, rel), data)
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// testCredentials writes TestPassword(user) into every credentials/<user>.password file a
// kustomization under root names.
func testCredentials(fsys filesys.FileSystem, root string) error {
	return fsys.Walk(root, func(path string, info fs.FileInfo, err error) error {
		if err != nil || info.Name() != "kustomization.yaml" {
			return err
		}
		data, err := fsys.ReadFile(path)
		if err != nil {
			return err
		}
		for _, ref := range credentialFile.FindAll(data, -1) {
			user := strings.TrimSuffix(filepath.Base(string(ref)), ".password")
			file := filepath.Join(filepath.Dir(path), string(ref))
			if err := fsys.MkdirAll(filepath.Dir(file)); err != nil {
				return err
			}
			if err := fsys.WriteFile(file, []byte(TestPassword(user))); err != nil {
				return err
			}
		}
		return nil
	})
}

// kustomize builds overlays/<overlay> of the tree at root in fsys.
func kustomize(fsys filesys.FileSystem, root, overlay string) (resmap.ResMap, error) {
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // the order `kubectl apply -k` and `kustomize build` print
	m, err := krusty.MakeKustomizer(opts).Run(fsys, filepath.Join(root, "overlays", overlay))
	if err != nil {
		return nil, fmt.Errorf("kustomize build overlays/%s: %w", overlay, err)
	}
	return m, nil
}
