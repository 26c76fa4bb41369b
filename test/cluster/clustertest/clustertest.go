// Package clustertest starts a cluster.Cluster for one test (or one package's TestMain) and stops
// it when the test ends, showing the control plane's logs when the test failed.
package clustertest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ebb.dev/test/cluster"
)

// logTail is how many lines of each process's log a failed test prints.
const logTail = 40

// Start starts a control plane for t and registers its shutdown. It fails t (it never skips) when
// the binaries are missing or the control plane does not come up.
func Start(t testing.TB, cfg cluster.Config) *cluster.Cluster {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	c, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for name, path := range c.Logs() {
				t.Logf("--- last %d lines of %s (%s)\n%s", logTail, name, path, tail(path, logTail))
			}
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop control plane: %v", err)
		}
	})
	return c
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

// RepoRoot is the ebb checkout the test runs in: the nearest directory above the working
// directory that holds go.work.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

// InstallKEDACRDs installs ebb's keda.sh CRDs, as generated into deploy/kustomize/base/crd/bases.
func InstallKEDACRDs(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	if err := c.InstallCRDs(t.Context(), filepath.Join(RepoRoot(t), "deploy", "kustomize", "base", "crd", "bases")); err != nil {
		t.Fatal(err)
	}
}
