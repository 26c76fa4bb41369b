package cluster_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoOrphans runs ebb-cluster as a separate program and ends it both ways a test run can end:
// an interrupt (clean stop) and SIGKILL (a test binary killed at its timeout). Either way every
// control-plane process it started must be gone.
func TestNoOrphans(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ebb-cluster")
	if out, err := exec.Command("go", "build", "-o", bin, "ebb.dev/test/cmd/ebb-cluster").CombinedOutput(); err != nil {
		t.Fatalf("build ebb-cluster: %v\n%s", err, out)
	}
	for name, sig := range map[string]syscall.Signal{"interrupted": syscall.SIGINT, "killed": syscall.SIGKILL} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "-controller-manager=true")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			waitForLine(t, stdout, "ready in")

			children := childPIDs(cmd.Process.Pid)
			if len(children) != 3 {
				t.Fatalf("ebb-cluster has child processes %v, want etcd, kube-apiserver and kube-controller-manager", children)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			deadline := time.Now().Add(15 * time.Second)
			for _, pid := range children {
				for alive(pid) {
					if time.Now().After(deadline) {
						t.Fatalf("process %d outlived ebb-cluster (%s)", pid, name)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
}

func waitForLine(t *testing.T, r interface{ Read([]byte) (int, error) }, substr string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			if strings.Contains(s.Text(), substr) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("ebb-cluster ended before printing %q", substr)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("ebb-cluster did not print %q within 90 s", substr)
	}
}

// childPIDs lists the direct children of pid from /proc.
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var children []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state, ppid, …
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			children = append(children, child)
		}
	}
	return children
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
