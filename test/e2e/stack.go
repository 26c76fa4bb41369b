// Package e2e runs ebb as its users do: every service a separate process of the built ebb
// binary, all talking over one bus process with authentication on, against the local control
// plane with the real HPA. Stack starts that world for a test; the tests beside it drive it.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"ebb.dev/bus"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
	"ebb.dev/test/proc"
)

// Services are ebb's services in the order Start runs them.
var Services = []string{"metrics-api", "decider", "actuator", "poller"}

// Options say what to start.
type Options struct {
	// EBB is the built ebb binary (see BuildEBB).
	EBB string
	// Services to run; nil runs all of Services.
	Services []string
	// Flags adds command-line flags per service.
	Flags map[string][]string
}

// Stack is a running ebb on a local control plane.
type Stack struct {
	Cluster *cluster.Cluster
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Dir     string
	BusURL  string

	opts      Options
	usersDir  string
	procs     map[string]*proc.Process
	metricsAt int // metrics-api's port
}

// BuildEBB builds cmd/ebb into dir and returns its path; one build serves a whole package.
func BuildEBB(dir string) (string, error) {
	out := filepath.Join(dir, "ebb")
	cmd := exec.Command("go", "build", "-o", out, "ebb.dev/cmd/ebb")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ebb: %v\n%s", err, b)
	}
	return out, nil
}

// Start brings up the control plane with the controller manager, ebb's CRDs, the bus and the
// services, and stops them all when the test ends. A failed test prints each service's log
// tail and the bus timeline.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	if opts.Services == nil {
		opts.Services = Services
	}
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	clustertest.InstallKEDACRDs(t, c)
	s := &Stack{
		Cluster: c,
		Kube:    kubernetes.NewForConfigOrDie(c.RESTConfig),
		Dynamic: dynamic.NewForConfigOrDie(c.RESTConfig),
		Dir:     t.TempDir(),
		opts:    opts,
		procs:   map[string]*proc.Process{},
	}
	t.Cleanup(func() { s.stopAll(t) })
	// ebb's own namespace: the actuator's Lease and ClusterTriggerAuthentications' Secrets.
	s.CreateNamespace(t, "ebb-system")
	s.startBus(t)
	for _, name := range opts.Services {
		s.StartService(t, name)
	}
	return s
}

// startBus runs `ebb bus` with one user per role, each with a random password in a file the
// way a mounted Secret provides it.
func (s *Stack) startBus(t testing.TB) {
	t.Helper()
	s.usersDir = filepath.Join(s.Dir, "bus-users")
	if err := os.MkdirAll(s.usersDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, role := range bus.Roles() {
		if err := os.WriteFile(s.passwordFile(role), []byte(randomPassword()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	s.BusURL = "nats://127.0.0.1:" + strconv.Itoa(ports[0])
	s.start(t, "bus", "bus", "-host", "127.0.0.1", "-port", strconv.Itoa(ports[0]), "-http-port", "0",
		"-store-dir", filepath.Join(s.Dir, "jetstream"), "-users-dir", s.usersDir, "-log-format", "text")
	s.waitForLog(t, "bus", "ready at")
}

// StartService runs one of Services (again, after StopService or KillService).
func (s *Stack) StartService(t testing.TB, name string) {
	t.Helper()
	args := []string{
		"-bus-url", s.BusURL, "-bus-password-file", s.passwordFile(bus.Role(name)),
		"-kubeconfig", s.Cluster.Kubeconfig, "-log-format", "text",
	}
	switch name {
	case "metrics-api":
		args = append(args, s.metricsAPIFlags(t)...)
	case "actuator":
		args = append(args, s.actuatorFlags(t)...)
	}
	s.start(t, name, append(append([]string{name}, args...), s.opts.Flags[name]...)...)
	if name == "metrics-api" {
		s.registerMetricsAPI(t)
	}
}

func (s *Stack) metricsAPIFlags(t testing.TB) []string {
	if s.metricsAt == 0 {
		ports, err := proc.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		s.metricsAt = ports[0]
	}
	return []string{"-bind-address", "127.0.0.1", "-port", strconv.Itoa(s.metricsAt),
		"-cert-dir", filepath.Join(s.Dir, "metrics-api-certs"), "-dns-names", cluster.ExternalMetricsServiceDNS}
}

// actuatorFlags keep the actuator's servers on loopback; its admission webhook is tested in
// test/api, so here it stays off and objects reach the actuator unvalidated, as they would
// with failurePolicy Ignore.
func (s *Stack) actuatorFlags(t testing.TB) []string {
	ports, err := proc.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"-webhook=false",
		"-metrics-bind-address", "127.0.0.1:" + strconv.Itoa(ports[0]),
		"-health-probe-bind-address", "127.0.0.1:" + strconv.Itoa(ports[1]),
		"-leader-election-lease-duration", "4s", "-leader-election-renew-deadline", "3s", "-leader-election-retry-period", "500ms"}
}

// registerMetricsAPI waits for metrics-api's generated certificate and registers it as the
// external metrics API (once; a restarted metrics-api keeps its certificate).
func (s *Stack) registerMetricsAPI(t testing.TB) {
	t.Helper()
	crt := filepath.Join(s.Dir, "metrics-api-certs", "metrics-api.crt")
	var caBundle []byte
	waitUntil(t, 30*time.Second, "metrics-api's certificate", func() bool {
		caBundle, _ = os.ReadFile(crt)
		return len(caBundle) > 0
	})
	if err := s.Cluster.RegisterExternalMetrics(t.Context(), s.metricsAt, caBundle); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

// StopService stops a service gracefully.
func (s *Stack) StopService(t testing.TB, name string) {
	t.Helper()
	if p := s.procs[name]; p != nil {
		if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Error(err)
		}
	}
}

// KillService kills a service at once, as a crash or a lost node would.
func (s *Stack) KillService(name string) {
	if p := s.procs[name]; p != nil {
		p.Kill()
	}
}

// Log returns what a service has written so far.
func (s *Stack) Log(name string) string {
	p := s.procs[name]
	if p == nil {
		return ""
	}
	b, _ := os.ReadFile(p.LogPath())
	return string(b)
}

// CreateNamespace creates a namespace.
func (s *Stack) CreateNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := s.Kube.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// WaitForReplicas waits until the Deployment's spec.replicas is want, and fails the test with
// the count it last saw otherwise.
func (s *Stack) WaitForReplicas(t testing.TB, namespace, name string, want int32, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d, err := s.Kube.AppsV1().Deployments(namespace).Get(t.Context(), name, metav1.GetOptions{})
		if err == nil && d.Spec.Replicas != nil && *d.Spec.Replicas == want {
			return
		}
		if time.Now().After(deadline) {
			got := "unknown"
			if err == nil && d.Spec.Replicas != nil {
				got = strconv.Itoa(int(*d.Spec.Replicas))
			}
			t.Fatalf("deployment %s/%s: %s replicas after %s, want %d (last error %v)", namespace, name, got, timeout, want, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Connect dials the stack's bus as role, with that role's password, until the test ends.
func (s *Stack) Connect(t testing.TB, role bus.Role) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.ClientConfig{URL: s.BusURL, User: string(role), PasswordFile: s.passwordFile(role)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// Tap runs `ebb tap` over what the audit stream holds and returns its lines: how a user
// answers "why did this scale?".
func (s *Stack) Tap(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.opts.EBB, append([]string{"tap", "-bus-url", s.BusURL,
		"-bus-password-file", s.passwordFile(bus.RoleTap), "-since", "24h", "-follow=false", "-log-format", "text"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// start runs `ebb <args...>` as the process called name.
func (s *Stack) start(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(s.opts.EBB, args...)
	cmd.Dir = s.Dir
	p, err := proc.Start(name, cmd, filepath.Join(s.Dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	s.procs[name] = p
}

func (s *Stack) waitForLog(t testing.TB, name, substr string) {
	t.Helper()
	waitUntil(t, 30*time.Second, name+" to log "+strconv.Quote(substr), func() bool {
		if done, err := s.procs[name].Exited(); done {
			t.Fatalf("%v\n%s", err, s.Log(name))
		}
		return strings.Contains(s.Log(name), substr)
	})
}

// stopAll stops the services, then the bus; on failure it first shows what happened.
func (s *Stack) stopAll(t testing.TB) {
	if t.Failed() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		timeline, err := s.Tap(ctx)
		cancel()
		t.Logf("--- bus timeline (ebb tap, err %v)\n%s", err, timeline)
		for name := range s.procs {
			t.Logf("--- %s log (last 4 KiB)\n%s", name, lastBytes(s.Log(name), 4096))
		}
	}
	for _, name := range append(append([]string{}, s.opts.Services...), "bus") {
		if p := s.procs[name]; p != nil {
			_ = p.Stop(syscall.SIGTERM, 10*time.Second)
		}
	}
}

func (s *Stack) passwordFile(role bus.Role) string {
	return filepath.Join(s.usersDir, string(role)+".password")
}

func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
