package rabbitmq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binaries of Debian's rabbitmq-server package. The /usr/sbin wrapper switches user and logs
// to /var, so the server script is run directly.
const (
	serverBin = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	epmdBin   = "epmd"
)

// Options configure a broker. The zero value is a plain AMQP and HTTP broker.
type Options struct {
	// TLS, when set, adds an AMQPS listener and an HTTPS management listener.
	TLS *TLS
	// StartTimeout bounds the start; 90 s when zero.
	StartTimeout time.Duration
}

// TLS is the broker's TLS material, PEM encoded.
type TLS struct {
	CA, Cert, Key []byte
	// VerifyPeer makes both TLS listeners require a client certificate signed by CA.
	VerifyPeer bool
}

// Server is a running broker. The ports are on 127.0.0.1; the TLS ones are 0 without TLS.
type Server struct {
	AMQPPort, AMQPSPort, ManagementPort, ManagementTLSPort int

	dir     string
	server  *exec.Cmd
	epmd    *exec.Cmd
	exited  chan struct{} // closed when the server process has exited
	waitErr error
}

// StartT starts a broker in t.TempDir and stops it when the test ends; it fails t if the broker
// does not come up.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start rabbitmq: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop rabbitmq: %v", err)
		}
	})
	return s
}

// Start starts a broker with its data and logs in dir, and returns once both the AMQP port
// and the management API answer. The caller must Stop it.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	s := &Server{AMQPPort: ports[0], ManagementPort: ports[1], dir: dir, exited: make(chan struct{})}
	distPort, epmdPort := ports[2], ports[3]
	if opts.TLS != nil {
		s.AMQPSPort, s.ManagementTLSPort = ports[4], ports[5]
	}
	if err := s.writeConfig(opts.TLS); err != nil {
		return nil, err
	}
	if err := s.startEPMD(epmdPort); err != nil {
		return nil, err
	}
	if err := s.startServer(distPort, epmdPort); err != nil {
		s.stopEPMD()
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		stopErr := s.Stop()
		return nil, errors.Join(err, stopErr)
	}
	return s, nil
}

func (s *Server) writeConfig(t *TLS) error {
	for _, d := range []string{"home", "mnesia", "log"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return err
		}
	}
	conf := []string{
		fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d", s.AMQPPort),
		"management.tcp.ip = 127.0.0.1",
		fmt.Sprintf("management.tcp.port = %d", s.ManagementPort),
		"collect_statistics_interval = 500",
	}
	if t != nil {
		files := map[string][]byte{"ca.pem": t.CA, "server.pem": t.Cert, "server.key": t.Key}
		for name, pem := range files {
			if err := os.WriteFile(filepath.Join(s.dir, name), pem, 0o600); err != nil {
				return err
			}
		}
		verify, failNoCert := "verify_none", "false"
		if t.VerifyPeer {
			verify, failNoCert = "verify_peer", "true"
		}
		for _, prefix := range []string{"ssl_options", "management.ssl"} {
			conf = append(conf,
				prefix+".cacertfile = "+filepath.Join(s.dir, "ca.pem"),
				prefix+".certfile = "+filepath.Join(s.dir, "server.pem"),
				prefix+".keyfile = "+filepath.Join(s.dir, "server.key"),
				prefix+".verify = "+verify,
				prefix+".fail_if_no_peer_cert = "+failNoCert)
		}
		conf = append(conf,
			fmt.Sprintf("listeners.ssl.default = 127.0.0.1:%d", s.AMQPSPort),
			"management.ssl.ip = 127.0.0.1",
			fmt.Sprintf("management.ssl.port = %d", s.ManagementTLSPort))
	}
	files := map[string]string{
		"rabbitmq.conf":   strings.Join(conf, "\n") + "\n",
		"enabled_plugins": "[rabbitmq_management].\n",
		// Management counts lag the broker by seconds by default; keep one-second samples.
		"advanced.config": "[{rabbitmq_management_agent, [{sample_retention_policies, " +
			"[{global, [{605, 1}]}, {basic, [{605, 1}]}, {detailed, [{10, 1}]}]}]}].\n",
		"rabbitmq-env.conf": "", // keeps /etc/rabbitmq/rabbitmq-env.conf out
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startEPMD runs the broker's own epmd; one the broker spawned would outlive it.
func (s *Server) startEPMD(port int) error {
	s.epmd = exec.Command(epmdBin, "-address", "127.0.0.1", "-port", strconv.Itoa(port))
	s.epmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.epmd.Start(); err != nil {
		return fmt.Errorf("start epmd: %w", err)
	}
	return waitTCP(context.Background(), port, 10*time.Second)
}

func (s *Server) startServer(distPort, epmdPort int) error {
	log, err := os.Create(filepath.Join(s.dir, "log", "console.log"))
	if err != nil {
		return err
	}
	d := s.dir
	s.server = exec.Command(serverBin)
	s.server.Env = append(os.Environ(),
		"HOME="+filepath.Join(d, "home"),
		fmt.Sprintf("RABBITMQ_NODENAME=rabbit_%d@localhost", s.AMQPPort),
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		fmt.Sprintf("RABBITMQ_NODE_PORT=%d", s.AMQPPort),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", distPort),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(d, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(d, "log"),
		"RABBITMQ_LOGS=-",
		"RABBITMQ_CONFIG_FILE="+filepath.Join(d, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(d, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(d, "enabled_plugins"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(d, "rabbitmq-env.conf"),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		fmt.Sprintf("ERL_EPMD_PORT=%d", epmdPort),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
	)
	s.server.Stdout, s.server.Stderr = log, log
	s.server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.server.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", serverBin, err)
	}
	go func() {
		s.waitErr = s.server.Wait()
		log.Close()
		close(s.exited)
	}()
	return nil
}

// waitReady polls the AMQP port and the management API until both answer.
func (s *Server) waitReady(ctx context.Context) error {
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("rabbitmq exited while starting (%v); log:\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("rabbitmq not ready: %w; log:\n%s", ctx.Err(), s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
		if waitTCP(ctx, s.AMQPPort, 100*time.Millisecond) != nil {
			continue
		}
		if s.api(ctx, http.MethodGet, "/api/overview", "") == nil {
			return nil
		}
	}
}

// Stop stops the broker (SIGTERM, then SIGKILL to its process group after 30 s) and its epmd.
// Calling it again does nothing.
func (s *Server) Stop() error {
	var err error
	if s.server != nil && s.server.Process != nil {
		select {
		case <-s.exited:
		default:
			_ = s.server.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				err = errors.New("rabbitmq ignored SIGTERM for 30 s; killed")
			}
		}
		// The Erlang VM's helpers (erl_child_setup, inet_gethost) share the group.
		_ = syscall.Kill(-s.server.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	s.stopEPMD()
	return err
}

func (s *Server) stopEPMD() {
	if s.epmd == nil || s.epmd.Process == nil || s.epmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-s.epmd.Process.Pid, syscall.SIGKILL)
	_ = s.epmd.Wait()
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log", "console.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// AMQPURL is the broker's amqp:// URL for user on vhost ("/" when empty).
func (s *Server) AMQPURL(user, password, vhost string) string {
	return amqpURL("amqp", s.AMQPPort, user, password, vhost)
}

// AMQPSURL is the broker's amqps:// URL for user on vhost. The server certificate must be
// valid for the IP address 127.0.0.1.
func (s *Server) AMQPSURL(user, password, vhost string) string {
	return amqpURL("amqps", s.AMQPSPort, user, password, vhost)
}

func amqpURL(scheme string, port int, user, password, vhost string) string {
	u := url.URL{Scheme: scheme, User: url.UserPassword(user, password), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	return u.String() + "/" + url.PathEscape(vhost)
}

// ManagementURL is the base URL of the management API over HTTP.
func (s *Server) ManagementURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(s.ManagementPort)
}

// ManagementTLSURL is the base URL of the management API over HTTPS.
func (s *Server) ManagementTLSURL() string {
	return "https://127.0.0.1:" + strconv.Itoa(s.ManagementTLSPort)
}

// AddVhost creates a vhost.
func (s *Server) AddVhost(ctx context.Context, vhost string) error {
	return s.api(ctx, http.MethodPut, "/api/vhosts/"+url.PathEscape(vhost), "")
}

// AddUser creates a user with tags (e.g. "monitoring" to read the management API).
func (s *Server) AddUser(ctx context.Context, user, password string, tags ...string) error {
	body := fmt.Sprintf(`{"password":%q,"tags":%q}`, password, strings.Join(tags, ","))
	return s.api(ctx, http.MethodPut, "/api/users/"+url.PathEscape(user), body)
}

// Permit gives user full permissions on vhost.
func (s *Server) Permit(ctx context.Context, vhost, user string) error {
	return s.api(ctx, http.MethodPut, "/api/permissions/"+url.PathEscape(vhost)+"/"+url.PathEscape(user),
		`{"configure":".*","write":".*","read":".*"}`)
}

// DeclareQueue creates a durable classic queue.
func (s *Server) DeclareQueue(ctx context.Context, vhost, queue string) error {
	return s.api(ctx, http.MethodPut, "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(queue),
		`{"durable":true,"auto_delete":false}`)
}

// Connection is a client connection as the management API lists it.
type Connection struct {
	Name  string `json:"name"`
	User  string `json:"user"`
	Vhost string `json:"vhost"`
	// ClientProperties.ConnectionName is the name the client gave (connection_name).
	ClientProperties struct {
		ConnectionName string `json:"connection_name"`
	} `json:"client_properties"`
}

// Connections lists the broker's client connections. The management API sees a new or closed
// connection after a second or so.
func (s *Server) Connections(ctx context.Context) ([]Connection, error) {
	var conns []Connection
	err := s.getJSON(ctx, "/api/connections", &conns)
	return conns, err
}

// CloseConnections closes every client connection, as a broker restart would.
func (s *Server) CloseConnections(ctx context.Context) error {
	conns, err := s.Connections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		if err := s.api(ctx, http.MethodDelete, "/api/connections/"+url.PathEscape(c.Name), ""); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ManagementURL()+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// api calls the management API as guest, which the broker allows from loopback.
func (s *Server) api(ctx context.Context, method, path, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, s.ManagementURL()+path, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth("guest", "guest")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg.String())
	}
	return nil
}

// freePorts reserves n distinct free ports on 127.0.0.1 (released before the broker binds them).
func freePorts(n int) ([]int, error) {
	var ports []int
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

func waitTCP(ctx context.Context, port int, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not accepting connections: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
