package deploy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/<overlay>.yaml from the rendered overlays")

// TestRender compares every overlay, as kustomize builds it, with testdata/<overlay>.yaml (go test
// -run TestRender -update rewrites them). The CRDs' bodies are left out: make verify checks them
// against their markers, and they would bury every other change.
func TestRender(t *testing.T) {
	dir := Dir(t)
	for _, overlay := range Overlays() {
		t.Run(overlay, func(t *testing.T) {
			objs, err := Objects(dir, overlay)
			if err != nil {
				t.Fatal(err)
			}
			got := golden(t, objs)
			path := filepath.Join("testdata", overlay+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRender -update to write it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
				t.Errorf("overlays/%s differs from %s (-want +got); run go test -run TestRender -update if the change is meant:\n%s", overlay, path, diff)
			}
		})
	}
}

// golden is the YAML stream of objs with each CustomResourceDefinition reduced to its name.
func golden(t *testing.T, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			o = &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": o.GetAPIVersion(), "kind": o.GetKind(),
				"metadata": map[string]any{"name": o.GetName()},
			}}
		}
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes()
}
