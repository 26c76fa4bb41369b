package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"ebb.dev/bus"
	"ebb.dev/services/actuator"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
	"ebb.dev/test/deploy"
	"ebb.dev/test/stack"
)

// Options say what to start.
type Options struct {
	// EBB is the built ebb binary (see stack.Build).
	EBB string
	// Services to run; nil runs all of stack.Services.
	Services []string
	// Instances are more processes of a service, by process name: {"actuator-2": "actuator"}
	// runs a second actuator, a standby while the first holds the Lease.
	Instances map[string]string
	// Flags adds command-line flags per process name.
	Flags map[string][]string
}

// Stack is a running ebb on a local control plane.
type Stack struct {
	Cluster *cluster.Cluster
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Dir     string
	BusURL  string

	opts  Options
	procs *stack.Stack
}

// Start brings up the control plane with the controller manager, ebb's CRDs, the bus and the
// services, and stops them all when the test ends. A failed test prints each service's log
// tail; Namespace adds the timeline and the objects of each scenario.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	if opts.Services == nil {
		opts.Services = stack.Services
	}
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	clustertest.InstallKEDACRDs(t, c)
	s := &Stack{
		Cluster: c,
		Kube:    kubernetes.NewForConfigOrDie(c.RESTConfig),
		Dynamic: dynamic.NewForConfigOrDie(c.RESTConfig),
		Dir:     t.TempDir(),
		opts:    opts,
	}
	// ebb's own namespace (the actuator's Lease, ClusterTriggerAuthentications' Secrets) and
	// each service's ServiceAccount with the rights deploy/kustomize gives it, and nothing more.
	deploy.ApplyRBAC(t, c, overlay)
	objs := deploy.MustObjects(t, overlay)
	procs, err := stack.Start(t.Context(), stack.Config{
		EBB: opts.EBB, Dir: s.Dir, Cluster: c, Services: opts.Services, Flags: s.flags(),
		// The bus and every process of a service, actuator-2 too, run with the arguments the
		// overlay gives them: the ha overlay's two actuators run the same ones (test/deploy
		// checks that).
		Args:        func(service string) ([]string, error) { return deploy.ContainerArgs(objs, service) },
		Kubeconfigs: kubeconfigs(t, c, objs, opts.Services),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.procs, s.BusURL = procs, procs.BusURL
	t.Cleanup(func() { s.stop(t) })
	for _, name := range slices.Sorted(maps.Keys(opts.Instances)) {
		s.StartService(t, name)
	}
	return s
}

// overlay is the install the suite runs as: its arguments and its RBAC.
const overlay = "default"

// kubeconfigs act, for each service, as the ServiceAccount the overlay runs it as.
func kubeconfigs(t testing.TB, c *cluster.Cluster, objs []*unstructured.Unstructured, services []string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, service := range services {
		sa, err := deploy.ServiceAccount(objs, service)
		if err != nil {
			t.Fatalf("overlay %s: %v", overlay, err)
		}
		paths[service] = deploy.Kubeconfig(t, c, sa)
	}
	return paths
}

// flags are the options' flags, plus each actuator's Lease identity: its process name, so the
// Lease tells which process leads.
func (s *Stack) flags() map[string][]string {
	flags := map[string][]string{}
	for name, f := range s.opts.Flags {
		flags[name] = slices.Clone(f)
	}
	for _, name := range append(slices.Clone(s.opts.Services), slices.Collect(maps.Keys(s.opts.Instances))...) {
		if s.service(name) == "actuator" {
			flags[name] = append([]string{"-leader-election-identity", name}, flags[name]...)
		}
	}
	return flags
}

// service is the service a process runs: its name, or what Options.Instances says.
func (s *Stack) service(name string) string {
	if svc, ok := s.opts.Instances[name]; ok {
		return svc
	}
	return name
}

// StartService starts the process called name (a service or one of Options.Instances), again
// after StopService or KillService.
func (s *Stack) StartService(t testing.TB, name string) {
	t.Helper()
	if err := s.procs.StartService(t.Context(), name, s.service(name)); err != nil {
		t.Fatal(err)
	}
}

// StopService stops a process gracefully.
func (s *Stack) StopService(t testing.TB, name string) {
	t.Helper()
	if err := s.procs.StopService(name); err != nil {
		t.Error(err)
	}
}

// KillService kills a process at once, as a crash or a lost node would.
func (s *Stack) KillService(name string) { s.procs.KillService(name) }

// Log returns what a process has written so far.
func (s *Stack) Log(name string) string { return s.procs.Log(name) }

// Connect dials the stack's bus as role, with that role's password, until the test ends.
func (s *Stack) Connect(t testing.TB, role bus.Role) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := s.procs.Connect(ctx, role)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// Tap runs `ebb tap` over what the audit stream holds and returns its lines: how a user
// answers "why did this scale?".
func (s *Stack) Tap(ctx context.Context, args ...string) (string, error) {
	return s.procs.Tap(ctx, args...)
}

// Leader is the process that holds the actuator's Lease ("" when none does).
func (s *Stack) Leader(t testing.TB) string {
	t.Helper()
	l, err := s.Kube.CoordinationV1().Leases(actuator.DefaultLeaseNamespace).Get(t.Context(), actuator.DefaultLeaseName, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// WaitForReplicas waits until the Deployment's spec.replicas is want, and fails the test with
// the count it last saw otherwise.
func (s *Stack) WaitForReplicas(t testing.TB, namespace, name string, want int32, timeout time.Duration) {
	t.Helper()
	poll(t, timeout, fmt.Sprintf("deployment %s/%s at %d replicas", namespace, name, want), func() (bool, string) {
		got, err := s.replicas(t, namespace, name)
		return err == nil && got == want, fmt.Sprintf("replicas %d, error %v", got, err)
	})
}

// HoldsReplicas checks that the Deployment stays at want replicas for d.
func (s *Stack) HoldsReplicas(t testing.TB, namespace, name string, want int32, d time.Duration) {
	t.Helper()
	holds(t, d, fmt.Sprintf("deployment %s/%s at %d replicas", namespace, name, want), func() (bool, string) {
		got, err := s.replicas(t, namespace, name)
		return err == nil && got == want, fmt.Sprintf("replicas %d, error %v", got, err)
	})
}

func (s *Stack) replicas(t testing.TB, namespace, name string) (int32, error) {
	d, err := s.Kube.AppsV1().Deployments(namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		return -1, err
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

// stop stops the services, then the bus; on failure it first shows what each process logged.
// A request the API server refused a service fails the test, whether or not a scenario noticed.
func (s *Stack) stop(t testing.TB) {
	for _, name := range s.procs.Names() {
		if lines := refused(s.Log(name)); len(lines) > 0 {
			t.Errorf("the API server refused %s %d times: its ServiceAccount lacks a right (deploy/kustomize, "+
				"or the actuator's +kubebuilder:rbac markers and make manifests); first:\n%s",
				name, len(lines), strings.Join(lines[:min(len(lines), 5)], "\n"))
		}
	}
	if t.Failed() {
		for _, name := range s.procs.Names() {
			t.Logf("--- %s log (last 6 KiB)\n%s", name, lastBytes(s.Log(name), 6<<10))
		}
	}
	if err := s.procs.Stop(); err != nil {
		t.Logf("stop ebb: %v", err)
	}
}

// poll waits until cond holds, checking every 100 ms, and fails t after timeout with what
// cond last reported.
func poll(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// holds checks that cond stays true for d, checking every 100 ms.
func holds(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok, last := cond(); !ok {
			t.Fatalf("expected %s for %s; got %s", what, d, last)
		}
	}
}

func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, timeout, what, func() (bool, string) { return cond(), "not yet" })
}

// refused lists the lines of log where the API server answered Forbidden.
func refused(log string) []string {
	var lines []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, "is forbidden: User") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
