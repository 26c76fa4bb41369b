package azurite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"ebb.dev/test/proc"
	"ebb.dev/test/servers"
)

// Azurite's development account; the key is public, documented with Azurite.
const (
	AccountName = "devstoreaccount1"
	AccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Server is a running Azurite queue service on 127.0.0.1:Port.
type Server struct {
	Port int

	proc *proc.Process
}

// StartT starts Azurite in t.TempDir and stops it when the test ends; it fails t if Azurite
// does not come up.
func StartT(t testing.TB) *Server {
	t.Helper()
	return servers.StartT(t, "azurite", func() (*Server, error) { return Start(context.Background(), t.TempDir()) })
}

// Start starts the queue service with its workspace in dir; it returns once the service
// accepts connections. The caller must Stop it.
func Start(ctx context.Context, dir string) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	s := &Server{Port: ports[0]}
	cmd := exec.Command(bin, "--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(s.Port),
		"--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent")
	cmd.Dir = dir // the workspace; --location may not be combined with --inMemoryPersistence
	if s.proc, err = proc.Start("azurite-queue", cmd, filepath.Join(dir, "azurite.log")); err != nil {
		return nil, err
	}
	if err := s.proc.WaitTCP(ctx, s.Port); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// Binary is the azurite-queue script hack/npm-deps.sh installed under $EBB_CACHE/npm
// ($HOME/.cache/ebb when EBB_CACHE is unset).
func Binary() (string, error) {
	cache := os.Getenv("EBB_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find azurite: %w", err)
		}
		cache = filepath.Join(home, ".cache", "ebb")
	}
	bin := filepath.Join(cache, "npm", "node_modules", ".bin", "azurite-queue")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("azurite is not installed at %s: run make deps (hack/npm-deps.sh azurite@3.35.0)", bin)
	}
	return bin, nil
}

// Stop stops Azurite (SIGTERM, then SIGKILL after 10 s). Calling it again does nothing.
func (s *Server) Stop() error {
	if s.proc == nil {
		return nil
	}
	return s.proc.Stop(syscall.SIGTERM, 10*time.Second)
}

// ServiceURL is the queue service URL of the development account (path-style, as Azurite
// serves it on an IP address).
func (s *Server) ServiceURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", s.Port, AccountName)
}

// ConnectionString is a storage connection string for the development account.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;QueueEndpoint=%s;",
		AccountName, AccountKey, s.ServiceURL())
}
