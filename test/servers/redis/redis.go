package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
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

const serverBin = "redis-server"

// Options configure a server. The zero value is a plain server anyone on loopback may use.
type Options struct {
	// Password is the default user's password (requirepass).
	Password string
	// Users are ACL users, name to password, each allowed every command and key.
	Users map[string]string
	// TLS, when set, adds a TLS port.
	TLS *TLS
	// StartTimeout bounds the start; 20 s when zero.
	StartTimeout time.Duration
}

// TLS is the server's TLS material, PEM encoded.
type TLS struct {
	CA, Cert, Key []byte
	// ClientCerts makes the TLS port require a client certificate signed by CA.
	ClientCerts bool
}

// Server is a running redis-server.
type Server struct {
	Port, TLSPort int // on 127.0.0.1; TLSPort is 0 without TLS

	proc *proc.Process
}

// StartT starts a server in t.TempDir and stops it when the test ends; it fails t if the
// server does not come up.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	return servers.StartT(t, "redis", func() (*Server, error) { return Start(context.Background(), dir, opts) })
}

// Start starts a server with its files in dir and returns once it accepts connections. The
// caller must Stop it.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{Port: ports[0]}
	if opts.TLS != nil {
		s.TLSPort = ports[1]
	}
	conf, err := s.writeConfig(dir, opts)
	if err != nil {
		return nil, err
	}
	s.proc, err = proc.Start("redis-server", exec.Command(serverBin, conf), filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, err
	}
	if err := s.proc.WaitLog(ctx, "Ready to accept connections"); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// writeConfig writes redis.conf (mode 0600: it holds the passwords) and returns its path.
func (s *Server) writeConfig(dir string, opts Options) (string, error) {
	conf := []string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(s.Port),
		"dir " + dir,
		`save ""`,
		"appendonly no",
		`logfile ""`,
		"daemonize no",
	}
	if opts.Password != "" {
		conf = append(conf, "requirepass "+quote(opts.Password))
	}
	for name, password := range opts.Users {
		conf = append(conf, fmt.Sprintf("user %s on %s ~* &* +@all", name, quote(">"+password)))
	}
	if t := opts.TLS; t != nil {
		files := map[string][]byte{"ca.pem": t.CA, "server.pem": t.Cert, "server.key": t.Key}
		for name, pem := range files {
			if err := os.WriteFile(filepath.Join(dir, name), pem, 0o600); err != nil {
				return "", err
			}
		}
		auth := "no"
		if t.ClientCerts {
			auth = "yes"
		}
		conf = append(conf,
			"tls-port "+strconv.Itoa(s.TLSPort),
			"tls-ca-cert-file "+filepath.Join(dir, "ca.pem"),
			"tls-cert-file "+filepath.Join(dir, "server.pem"),
			"tls-key-file "+filepath.Join(dir, "server.key"),
			"tls-auth-clients "+auth)
	}
	path := filepath.Join(dir, "redis.conf")
	return path, os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600)
}

// quote makes s one argument of a redis.conf directive.
func quote(s string) string { return strconv.Quote(s) }

// Addr is the plain port's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// TLSAddr is the TLS port's host:port.
func (s *Server) TLSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.TLSPort)) }

// PID is the server's process ID.
func (s *Server) PID() int { return s.proc.PID() }

// Stop stops the server (SIGTERM, then SIGKILL after 10 s). Calling it again does nothing.
func (s *Server) Stop() error {
	return s.proc.Stop(syscall.SIGTERM, 10*time.Second)
}
