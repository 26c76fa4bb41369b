// Package stack runs ebb on this machine the way a cluster runs it: one `ebb bus` process
// with a password per role, and each service a separate `ebb` process, pointed at a local
// control plane. The end-to-end suite and `make run` both start it; it knows nothing of tests.
package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ebb.dev/bus"
	"ebb.dev/test/cluster"
	"ebb.dev/test/proc"
)

// Services are ebb's services in the order Start runs them.
var Services = []string{"metrics-api", "decider", "actuator", "poller"}

// Config says what to run.
type Config struct {
	// EBB is the built ebb binary (see Build).
	EBB string
	// Dir holds the bus's store, the passwords, certificates and every process's log.
	Dir string
	// Cluster is the control plane the services use; its aggregator gets metrics-api.
	Cluster *cluster.Cluster
	// Services to run; nil runs all of Services.
	Services []string
	// Args gives a service's arguments as deployed (e.g. from deploy/kustomize), subcommand
	// first, and the bus's when asked for "bus"; Start appends what differs on this machine (addresses, files: localFlags), so a
	// flag given twice takes the later value, and refuses a deployed path, listen address or
	// URL that it does not set again. Nil runs each service with its subcommand alone.
	Args func(service string) ([]string, error)
	// Kubeconfigs gives a service its own kubeconfig (say, its ServiceAccount's token);
	// services without one use the cluster's admin kubeconfig.
	Kubeconfigs map[string]string
	// Flags are appended last, per service instance name.
	Flags map[string][]string
}

// Stack is a running ebb.
type Stack struct {
	BusURL string

	cfg       Config
	usersDir  string
	procs     map[string]*proc.Process
	metricsAt int // metrics-api's port, kept across restarts with its certificate
}

// Build builds cmd/ebb into dir and returns its path.
func Build(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "ebb")
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, "ebb.dev/cmd/ebb").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ebb: %v\n%s", err, b)
	}
	return out, nil
}

// Start runs the bus and the services. On error it stops what it started.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Services == nil {
		cfg.Services = Services
	}
	s := &Stack{cfg: cfg, procs: map[string]*proc.Process{}}
	if err := s.start(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	if err := s.startBus(ctx); err != nil {
		return err
	}
	for _, name := range s.cfg.Services {
		if err := s.StartService(ctx, name, name); err != nil {
			return err
		}
	}
	return nil
}

// startBus runs `ebb bus` with one user per role, each password in a file as a mounted
// Secret provides it.
func (s *Stack) startBus(ctx context.Context) error {
	s.usersDir = filepath.Join(s.cfg.Dir, "bus-users")
	if err := os.MkdirAll(s.usersDir, 0o700); err != nil {
		return err
	}
	for _, role := range bus.Roles() {
		if err := os.WriteFile(s.PasswordFile(role), []byte(randomPassword()), 0o600); err != nil {
			return err
		}
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return err
	}
	s.BusURL = "nats://127.0.0.1:" + strconv.Itoa(ports[0])
	args := []string{"bus"}
	if s.cfg.Args != nil {
		if args, err = s.cfg.Args("bus"); err != nil {
			return fmt.Errorf("arguments of the bus: %w", err)
		}
	}
	local := []string{"-host", "127.0.0.1", "-port", strconv.Itoa(ports[0]), "-http-port", "0",
		"-store-dir", filepath.Join(s.cfg.Dir, "jetstream"), "-users-dir", s.usersDir, "-log-format", "text"}
	if missed := inCluster(args, local); len(missed) > 0 {
		return fmt.Errorf("arguments of the bus: %q hold a path or address of the cluster, and Start does not set them", missed)
	}
	if err := s.run("bus", append(args, local...)...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.procs["bus"].WaitLog(ctx, "ready at")
}

// StartService runs service (one of Services) as the process called name, and waits until it
// listens: a second actuator is StartService(ctx, "actuator-2", "actuator"). A process that
// exits first, say on a flag the manifests give and the binary does not know, is an error.
func (s *Stack) StartService(ctx context.Context, name, service string) error {
	args := []string{service}
	if s.cfg.Args != nil {
		deployed, err := s.cfg.Args(service)
		if err != nil {
			return fmt.Errorf("arguments of %s: %w", service, err)
		}
		args = deployed
	}
	local, port, err := s.localFlags(service)
	if err != nil {
		return err
	}
	if missed := inCluster(args, local); len(missed) > 0 {
		return fmt.Errorf("arguments of %s: %q hold a path or address of the cluster, and Start does not set "+
			"them for this machine (see localFlags)", service, missed)
	}
	args = append(append(args, local...), s.cfg.Flags[name]...)
	if err := s.run(name, args...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.procs[name].WaitTCP(ctx, port); err != nil {
		return err
	}
	if service == "metrics-api" {
		return s.registerMetricsAPI(ctx)
	}
	return nil
}

// localFlags are the only flags Start sets over a service's deployed arguments: where the bus
// and the API server are and who the service is to them, and its servers on loopback, on free
// ports, with a certificate in Dir. port is the one that answers once the service is up.
func (s *Stack) localFlags(service string) (flags []string, port int, err error) {
	ports, err := proc.FreePorts(3)
	if err != nil {
		return nil, 0, err
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	kubeconfig := s.cfg.Kubeconfigs[service]
	if kubeconfig == "" {
		kubeconfig = s.cfg.Cluster.Kubeconfig
	}
	flags = []string{"-bus-url", s.BusURL, "-bus-user", string(role(service)),
		"-bus-password-file", s.PasswordFile(role(service)), "-kubeconfig", kubeconfig, "-log-format", "text"}
	switch service {
	case "metrics-api":
		if s.metricsAt == 0 {
			s.metricsAt = ports[0]
		}
		return append(flags, "-bind-address", "127.0.0.1", "-port", strconv.Itoa(s.metricsAt), "-metrics-bind-address", addr(1),
			"-cert-dir", filepath.Join(s.cfg.Dir, "metrics-api-certs"), "-dns-names", cluster.ExternalMetricsServiceDNS), s.metricsAt, nil
	case "poller", "decider":
		return append(flags, "-health-probe-bind-address", addr(0), "-metrics-bind-address", addr(1)), ports[0], nil
	case "actuator":
		// The admission webhook has its own tests (test/api); here objects reach the actuator
		// unvalidated, as with failurePolicy Ignore.
		return append(flags, "-webhook=false", "-health-probe-bind-address", addr(0), "-metrics-bind-address", addr(1),
			"-leader-election-lease-duration", "4s", "-leader-election-renew-deadline", "3s", "-leader-election-retry-period", "500ms"), ports[0], nil
	}
	return nil, 0, fmt.Errorf("unknown service %q", service)
}

// inCluster lists the flags of deployed (written -name=value, as the manifests write them)
// whose value is a path in the container, an address to listen on or a URL of the cluster,
// and that local does not set again: such a value cannot work on this machine.
func inCluster(deployed, local []string) []string {
	set := map[string]bool{}
	for _, a := range local {
		if name, ok := strings.CutPrefix(a, "-"); ok {
			name, _, _ = strings.Cut(name, "=")
			set[name] = true
		}
	}
	var missed []string
	for _, a := range deployed {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if !ok || set[name] {
			continue
		}
		if strings.HasPrefix(value, "/") || strings.HasPrefix(value, ":") || strings.Contains(value, "://") {
			missed = append(missed, a)
		}
	}
	return missed
}

// registerMetricsAPI registers metrics-api, listening now, as the external metrics API with
// the certificate it generated.
func (s *Stack) registerMetricsAPI(ctx context.Context) error {
	crt := filepath.Join(s.cfg.Dir, "metrics-api-certs", "metrics-api.crt")
	caBundle, err := os.ReadFile(crt)
	if err != nil || len(caBundle) == 0 {
		return fmt.Errorf("metrics-api listens without a certificate in %s: %v", crt, err)
	}
	err = s.cfg.Cluster.RegisterExternalMetrics(ctx, s.metricsAt, caBundle)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return err
	}
	return nil
}

// StopService stops the process called name gracefully.
func (s *Stack) StopService(name string) error {
	if p := s.procs[name]; p != nil {
		return p.Stop(syscall.SIGTERM, 10*time.Second)
	}
	return nil
}

// KillService kills the process called name at once, as a crash or a lost node would.
func (s *Stack) KillService(name string) {
	if p := s.procs[name]; p != nil {
		p.Kill()
	}
}

// Log returns what the process called name has written so far.
func (s *Stack) Log(name string) string {
	p := s.procs[name]
	if p == nil {
		return ""
	}
	b, _ := os.ReadFile(p.LogPath())
	return string(b)
}

// PID is the process ID of the process called name (0 when none was started), for reading its
// CPU time and memory from /proc.
func (s *Stack) PID(name string) int {
	if p := s.procs[name]; p != nil {
		return p.PID()
	}
	return 0
}

// Names lists the processes started, the bus first.
func (s *Stack) Names() []string {
	names := []string{"bus"}
	for name := range s.procs {
		if name != "bus" {
			names = append(names, name)
		}
	}
	return names
}

// Connect dials the bus as role, with that role's password.
func (s *Stack) Connect(ctx context.Context, r bus.Role) (*bus.Conn, error) {
	return bus.Connect(ctx, bus.ClientConfig{URL: s.BusURL, User: string(r), PasswordFile: s.PasswordFile(r)})
}

// Tap runs `ebb tap` over what the audit stream holds and returns its lines.
func (s *Stack) Tap(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.cfg.EBB, append([]string{"tap", "-bus-url", s.BusURL,
		"-bus-password-file", s.PasswordFile(bus.RoleTap), "-since", "24h", "-follow=false", "-log-format", "text"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// PasswordFile is the file holding role's bus password.
func (s *Stack) PasswordFile(r bus.Role) string {
	return filepath.Join(s.usersDir, string(r)+".password")
}

// Stop stops the services, then the bus.
func (s *Stack) Stop() error {
	var errs []error
	for name, p := range s.procs {
		if name != "bus" {
			errs = append(errs, p.Stop(syscall.SIGTERM, 10*time.Second))
		}
	}
	if p := s.procs["bus"]; p != nil {
		errs = append(errs, p.Stop(syscall.SIGTERM, 10*time.Second))
	}
	return errors.Join(errs...)
}

// run starts `ebb <args...>` as the process called name.
func (s *Stack) run(name string, args ...string) error {
	cmd := exec.Command(s.cfg.EBB, args...)
	cmd.Dir = s.cfg.Dir
	p, err := proc.Start(name, cmd, filepath.Join(s.cfg.Dir, name+".log"))
	if err != nil {
		return err
	}
	s.procs[name] = p
	return nil
}

// role is the bus role of a service: its name.
func role(service string) bus.Role { return bus.Role(service) }

func randomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
