package deploy

import (
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"ebb.dev/test/cluster/clustertest"
)

// TestBusCredentials follows the documented first step on a copy of deploy/kustomize without
// password files: building fails naming the missing file; hack/bus-credentials.sh then writes a
// distinct random password for every bus user of every overlay, after which every overlay builds
// from disk; running it again changes nothing.
func TestBusCredentials(t *testing.T) {
	dir := t.TempDir()
	disk := filesys.MakeFsOnDisk()
	if err := copyTree(Dir(t), disk, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := kustomize(disk, dir, "default"); err == nil || !strings.Contains(err.Error(), "credentials/") {
		t.Errorf("build without password files: %v; want an error naming the missing credentials file", err)
	}

	script := filepath.Join(clustertest.RepoRoot(t), "hack", "bus-credentials.sh")
	runScript(t, script, dir)
	first := passwords(t, dir)
	users := slices.Sorted(maps.Keys(first))
	want := []string{"base/bus/credentials/actuator.password", "base/bus/credentials/decider.password",
		"base/bus/credentials/metrics-api.password", "base/bus/credentials/poller.password",
		"base/bus/credentials/tap.password", "overlays/ha/credentials/route.password"}
	if diff := cmp.Diff(want, slices.DeleteFunc(slices.Clone(users), func(f string) bool {
		return strings.HasPrefix(f, "overlays/per-source-pollers/")
	})); diff != "" {
		t.Errorf("password files outside per-source-pollers (-want +got):\n%s", diff)
	}
	hex48 := regexp.MustCompile(`^[0-9a-f]{48}$`)
	seen := map[string]string{}
	for _, f := range users {
		p := first[f]
		if !hex48.MatchString(p) {
			t.Errorf("%s: %q is not 48 hex digits", f, p)
		}
		if other, ok := seen[p]; ok {
			t.Errorf("%s and %s have the same password", f, other)
		}
		seen[p] = f
	}
	for _, overlay := range Overlays() {
		if _, err := kustomize(disk, dir, overlay); err != nil {
			t.Errorf("after the script: %v", err)
		}
	}

	if out := runScript(t, script, dir); !strings.Contains(out, " 0 new password file(s)") {
		t.Errorf("second run: %q, want 0 new files", out)
	}
	if diff := cmp.Diff(first, passwords(t, dir)); diff != "" {
		t.Errorf("a second run changed passwords (-want +got):\n%s", diff)
	}
}

func runScript(t *testing.T, script, dir string) string {
	t.Helper()
	out, err := exec.Command(script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, dir, err, out)
	}
	return string(out)
}

// passwords maps every password file under dir (relative path) to its content.
func passwords(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".password") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
