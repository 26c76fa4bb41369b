package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ebb.dev/test/proc"
	"ebb.dev/test/servers"
)

// User is the superuser; Options.Password is its password.
const User = "postgres"

// Options configure a server.
type Options struct {
	// Password of User over TCP; "postgres" when empty.
	Password string
	// StartTimeout bounds initdb and the start; 60 s when zero.
	StartTimeout time.Duration
}

// Server is a running PostgreSQL server on 127.0.0.1:Port.
type Server struct {
	Port     int
	Password string

	bin  string // directory of the server binaries
	dir  string // data, socket and log; removed by Stop
	uid  *syscall.Credential
	proc *proc.Process
}

// StartT starts a server and stops it when the test ends; it fails t if the server does not
// come up.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	return servers.StartT(t, "postgres", func() (*Server, error) { return Start(context.Background(), opts) })
}

// Start initialises a cluster in a new temp dir and starts the server; it returns once the
// server accepts connections. The caller must Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	timeout := orDefault(opts.StartTimeout, 60*time.Second)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	s := &Server{Port: ports[0], Password: opts.Password, bin: bin}
	if s.Password == "" {
		s.Password = "postgres"
	}
	if err := s.prepare(ctx); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	cmd := s.command(context.Background(), "postgres", "-D", s.data(), "-p", strconv.Itoa(s.Port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off")
	if s.proc, err = proc.Start("postgres", cmd, filepath.Join(s.dir, "postgres.log")); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if err := s.proc.WaitLog(ctx, "database system is ready to accept connections"); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// binDir is the newest /usr/lib/postgresql/<version>/bin holding a server.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(found) == 0 {
		return "", errors.New("no PostgreSQL server under /usr/lib/postgresql/*/bin: run make deps")
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(found[len(found)-1]), nil
}

func version(postgresPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(postgresPath))))
	return v
}

// prepare makes the temp dir and runs initdb. initdb and the server refuse to run as root, so
// under root they run as the postgres user, in a dir it owns under the system temp dir (a
// test's own TempDir is not reachable by other users).
func (s *Server) prepare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "ebb-postgres-")
	if err != nil {
		return err
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.uid = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.uid != nil {
		if err := os.Chown(pwfile, int(s.uid.Uid), int(s.uid.Gid)); err != nil {
			return err
		}
	}
	return proc.Run(s.command(ctx, "initdb", "-D", s.data(), "-U", User, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"))
}

// command runs a server binary, as the postgres user when running as root.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.uid != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.uid}
	}
	return cmd
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// Stop stops the server (a fast shutdown: sessions are ended) and removes its files. Calling
// it again does nothing.
func (s *Server) Stop() error {
	var err error
	if s.proc != nil {
		err = s.proc.Stop(syscall.SIGINT, 20*time.Second)
	}
	if s.dir != "" {
		err = errors.Join(err, os.RemoveAll(s.dir))
		s.dir = ""
	}
	return err
}

// SQL runs statements, each in its own transaction, as the superuser over the server's Unix
// socket (trust auth), stopping at the first error.
func (s *Server) SQL(ctx context.Context, db, statements string) error {
	cmd := s.command(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.dir, "-p", strconv.Itoa(s.Port),
		"-U", User, "-d", db, "-f", "-")
	cmd.Stdin = strings.NewReader(statements)
	return proc.Run(cmd)
}

// URL is a postgres:// connection URL for user and password to database db over TCP,
// without TLS.
func (s *Server) URL(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

func orDefault(d, fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return d
}
