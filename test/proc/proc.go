package proc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Process is a started server process. Its output goes to a log file.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has exited
	waitErr error
}

// Start starts cmd in its own process group with stdout and stderr appended to logPath. name
// labels errors.
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// The server dies with the test binary, even one killed at its timeout.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		log.Close()
		close(p.exited)
	}()
	return p, nil
}

// Name labels the process in errors and logs.
func (p *Process) Name() string { return p.name }

// LogPath is the file its output goes to.
func (p *Process) LogPath() string { return p.logPath }

// Exited reports, without blocking, whether the process has ended, and why.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, fmt.Errorf("%s exited: %v (log: %s)", p.name, p.waitErr, p.logPath)
	default:
		return false, nil
	}
}

// Kill ends the process group at once, as a crash would.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// PID is the process's ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop sends sig and waits up to grace for the process to exit, then kills its process group.
// It returns an error if the process had to be killed. Calling it again does nothing.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	var err error
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.exited:
		case <-time.After(grace):
			err = fmt.Errorf("%s ignored %v for %v; killed", p.name, sig, grace)
		}
	}
	// Helpers the server forked share its group; none may outlive the test.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return err
}

// WaitLog waits until the log contains line, failing early if the process exits.
func (p *Process) WaitLog(ctx context.Context, line string) error {
	return p.waitFor(ctx, "log line "+strconv.Quote(line), func(context.Context) bool {
		b, _ := os.ReadFile(p.logPath)
		return bytes.Contains(b, []byte(line))
	})
}

// WaitTCP waits until 127.0.0.1:port accepts connections, failing early if the process exits.
func (p *Process) WaitTCP(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return p.waitFor(ctx, addr, func(ctx context.Context) bool {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

func (p *Process) waitFor(ctx context.Context, what string, ready func(context.Context) bool) error {
	for {
		if ready(ctx) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v) before %s; log:\n%s", p.name, p.waitErr, what, p.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("%s: no %s: %w; log:\n%s", p.name, what, ctx.Err(), p.LogTail())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// LogTail is the last 4000 bytes of the log.
func (p *Process) LogTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// FreePorts reserves n distinct free ports on 127.0.0.1. They are released before returning,
// so a server started right after binds them (another process could, rarely, take one first).
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Run runs a setup command (built with exec.CommandContext to bound it) to completion; the
// error holds its output.
func Run(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd.Args[0], err, out)
	}
	return nil
}
