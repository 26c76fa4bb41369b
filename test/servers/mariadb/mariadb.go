package mariadb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ebb.dev/test/proc"
	"ebb.dev/test/servers"
)

// Options configure a server.
type Options struct {
	// StartTimeout bounds the install and the start; 60 s when zero.
	StartTimeout time.Duration
}

// Server is a running MariaDB server on 127.0.0.1:Port.
type Server struct {
	Port int

	dir  string
	proc *proc.Process
}

// StartT starts a server in t.TempDir and stops it when the test ends; it fails t if the
// server does not come up.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	return servers.StartT(t, "mariadb", func() (*Server, error) { return Start(context.Background(), t.TempDir(), opts) })
}

// Start installs the system tables in dir and starts the server; it returns once the server
// accepts connections. The caller must Stop it.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	s := &Server{Port: ports[0], dir: dir}
	// --no-defaults must come first: /etc/mysql would otherwise point at the system's dirs.
	install := exec.CommandContext(ctx, "mariadb-install-db", append([]string{"--no-defaults", "--datadir=" + s.data(),
		"--auth-root-authentication-method=normal", "--skip-test-db"}, asRoot()...)...)
	if err := proc.Run(install); err != nil {
		return nil, fmt.Errorf("mariadb-install-db (run make deps if it is missing): %w", err)
	}
	server := exec.Command("mariadbd", append([]string{"--no-defaults", "--datadir=" + s.data(), "--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1", "--socket=" + s.socket(), "--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0"}, asRoot()...)...)
	if s.proc, err = proc.Start("mariadbd", server, filepath.Join(dir, "mariadbd.log")); err != nil {
		return nil, err
	}
	if err := s.proc.WaitLog(ctx, "ready for connections"); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// asRoot lets the server run as root when the test does (it refuses to otherwise).
func asRoot() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func (s *Server) data() string   { return filepath.Join(s.dir, "data") }
func (s *Server) socket() string { return filepath.Join(s.dir, "mariadbd.sock") }

// Stop shuts the server down (SIGTERM, then SIGKILL after 30 s). Calling it again does nothing.
func (s *Server) Stop() error {
	if s.proc == nil {
		return nil
	}
	return s.proc.Stop(syscall.SIGTERM, 30*time.Second)
}

// SQL runs statements as root over the Unix socket, stopping at the first error.
func (s *Server) SQL(ctx context.Context, statements string) error {
	cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--socket="+s.socket(), "--user=root", "--batch")
	cmd.Stdin = strings.NewReader(statements)
	return proc.Run(cmd)
}

// DSN is a go-sql-driver/mysql data source name for user and password to database db over TCP.
func (s *Server) DSN(user, password, db string) string {
	return fmt.Sprintf("%s:%s@tcp(127.0.0.1:%d)/%s", user, password, s.Port, db)
}
