package proc

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func start(t *testing.T, script string) *Process {
	t.Helper()
	p, err := Start("sh", exec.Command("sh", "-c", script), filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(syscall.SIGKILL, time.Second) })
	return p
}

func TestWaitAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := start(t, "echo ready; exec sleep 30")
	if err := p.WaitLog(ctx, "ready"); err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Errorf("Stop of a process that exits on SIGTERM: %v", err)
	}
	if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopKillsAStubbornProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := start(t, `trap "" TERM; echo trapped; while :; do sleep 1; done`)
	if err := p.WaitLog(ctx, "trapped"); err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	err := p.Stop(syscall.SIGTERM, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "sh ignored terminated for 200ms; killed") {
		t.Errorf("Stop = %v, want it to report the kill", err)
	}
}

func TestWaitFailsWhenTheProcessExits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ports, err := FreePorts(2)
	if err != nil || ports[0] == ports[1] {
		t.Fatalf("FreePorts = %v, %v", ports, err)
	}
	p := start(t, "echo bind failed; exit 3")
	err = p.WaitTCP(ctx, ports[0])
	if err == nil || !strings.Contains(err.Error(), "sh exited (exit status 3) before 127.0.0.1:") || !strings.Contains(err.Error(), "bind failed") {
		t.Errorf("WaitTCP = %v, want the exit and the log", err)
	}
}
