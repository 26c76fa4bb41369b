package bus

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/schemas/msg"
)

// internalUser is the bus's own admin identity, used in-process to provision streams. Its
// password is random per process and never leaves it.
const internalUser = "ebb-bus"

// Server is a running bus node.
type Server struct {
	cfg   Config
	ns    *server.Server
	users map[string]User

	stopProvision context.CancelFunc
	provisioned   chan struct{} // closed once the streams exist or provisioning failed
	provisionErr  error         // set before provisioned is closed
	provisioner   chan struct{} // closed when the provisioning goroutine has returned
	shutdownOnce  sync.Once
}

// Start runs a bus node. It returns once clients can connect; outside Cluster mode it also
// waits until every stream and bucket exists. A cluster node provisions in the background
// once all three nodes have joined: call Ready to wait for it.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	users := cfg.Users
	if cfg.Mode == Single && len(users) == 0 {
		users = generatedUsers()
	}
	users = append(users, User{Name: internalUser, Role: RoleAdmin, Password: rand.Text()})
	opts, err := serverOptions(cfg, users)
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start bus %s: %w", cfg.Name, err)
	}
	ns.SetLoggerV2(serverLog{cfg.Logger.With("component", "nats-server")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout(ctx)) {
		ns.Shutdown()
		return nil, fmt.Errorf("start bus %s: not ready for connections", cfg.Name)
	}
	s := &Server{cfg: cfg, ns: ns, users: map[string]User{}, provisioned: make(chan struct{}), provisioner: make(chan struct{})}
	for _, u := range users {
		s.users[u.Name] = u
	}
	pctx, cancel := context.WithCancel(context.Background())
	s.stopProvision = cancel
	go s.provision(pctx)
	if cfg.Mode != Cluster {
		if err := s.Ready(ctx); err != nil {
			s.Shutdown()
			return nil, err
		}
	}
	return s, nil
}

// Ready waits until every stream and bucket exists, or ctx ends.
func (s *Server) Ready(ctx context.Context) error {
	select {
	case <-s.provisioned:
		return s.provisionErr
	case <-ctx.Done():
		return fmt.Errorf("bus %s: wait for streams: %w", s.cfg.Name, ctx.Err())
	}
}

func (s *Server) provision(ctx context.Context) {
	defer close(s.provisioner)
	c, err := s.Connect(ctx, internalUser)
	if err != nil {
		s.provisionErr = fmt.Errorf("bus %s: provision: %w", s.cfg.Name, err)
		close(s.provisioned)
		return
	}
	defer c.Close()
	l := layout(s.cfg)
	if s.cfg.Mode != Cluster {
		if err := provisionOnce(ctx, c.JetStream(), l, 10*time.Second); err != nil {
			s.provisionErr = fmt.Errorf("bus %s: %w", s.cfg.Name, err)
		}
		close(s.provisioned)
		return
	}
	s.provisionCluster(ctx, c.JetStream(), l)
}

// provisionCluster lets the JetStream metadata leader alone create or update the streams,
// each time a node becomes leader, so a rolling change of Config takes effect once a node
// with the new Config leads. Every node is ready once the streams exist.
func (s *Server) provisionCluster(ctx context.Context, js jetstream.JetStream, l streams) {
	log := s.cfg.Logger.With("server", s.cfg.Name)
	applied, ready := false, false
	for attempt := 1; ; attempt++ {
		switch {
		case !s.ns.JetStreamIsLeader():
			applied = false
		case !applied:
			err := provisionOnce(ctx, js, l, 2*time.Second)
			applied = err == nil
			if err != nil {
				log.Warn("bus streams not provisioned yet", "error", err)
			}
		}
		if !ready {
			err := exist(ctx, js, l)
			if ready = err == nil; ready {
				log.Info("bus streams ready", "mode", s.cfg.Mode)
				close(s.provisioned)
			} else if attempt%40 == 0 { // every ~10 s, so a cluster that never forms is visible
				log.Info("waiting for the cluster to create the bus streams", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			if !ready {
				s.provisionErr = fmt.Errorf("bus %s: streams never provisioned: %w", s.cfg.Name, ctx.Err())
				close(s.provisioned)
			}
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Connect opens an in-process connection as one of the server's users whose password the
// server holds in plain text: every user it generated in Single mode, and the configured ones
// with plain passwords.
func (s *Server) Connect(ctx context.Context, user string) (*Conn, error) {
	u, ok := s.users[user]
	if !ok || u.Password == "" || strings.HasPrefix(u.Password, "$2") {
		return nil, fmt.Errorf("connect in-process as %q: the server holds no plain password for that user", user)
	}
	return connect(ctx, ClientConfig{User: user, Password: u.Password, Prefix: s.cfg.Prefix, Logger: s.cfg.Logger},
		nats.InProcessServer(s.ns))
}

// ClientURL is the URL services dial, or "" with NoListen.
func (s *Server) ClientURL() string {
	if s.cfg.NoListen {
		return ""
	}
	return s.ns.ClientURL()
}

// RouteURL is the URL other cluster nodes list in their routes, or "" outside Cluster mode.
func (s *Server) RouteURL() string {
	addr := s.ns.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
}

// MonitorURL is the HTTP monitoring endpoint's base URL, or "" when HTTPPort is 0.
func (s *Server) MonitorURL() string {
	addr := s.ns.MonitorAddr()
	if addr == nil {
		return ""
	}
	return "http://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
}

// Name is the server's name in its cluster.
func (s *Server) Name() string { return s.cfg.Name }

// Prefix is the subject prefix the bus serves.
func (s *Server) Prefix() msg.Prefix { return s.cfg.Prefix }

// IsStreamLeader reports whether this node leads the named stream's replicas.
func (s *Server) IsStreamLeader(stream string) bool {
	if !s.ns.JetStreamIsClustered() {
		return true
	}
	return s.ns.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream)
}

// Shutdown stops the server and waits until it has stopped; it is safe to call twice.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() {
		s.stopProvision()
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		<-s.provisioner
	})
}

func serverOptions(cfg Config, users []User) (*server.Options, error) {
	opts := &server.Options{
		ServerName:             cfg.Name,
		Host:                   cfg.Host,
		Port:                   cfg.Port,
		DontListen:             cfg.NoListen,
		JetStream:              true,
		StoreDir:               cfg.StoreDir,
		JetStreamMaxMemory:     cfg.MaxMemory,
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}
	if cfg.HTTPPort != 0 {
		opts.HTTPHost, opts.HTTPPort = cfg.Host, cfg.HTTPPort
	}
	for _, u := range users {
		perms := permissions(u.Role, cfg.Prefix, u.Name)
		if u.NKey != "" {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: u.NKey, Permissions: perms})
			continue
		}
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: perms})
	}
	if t := cfg.TLS; t != nil {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: t.CertFile, KeyFile: t.KeyFile, CaFile: t.CAFile, Verify: t.VerifyClients})
		if err != nil {
			return nil, fmt.Errorf("bus tls: %w", err)
		}
		opts.TLS, opts.TLSConfig, opts.TLSVerify, opts.TLSTimeout = true, tc, t.VerifyClients, 2
	}
	if cfg.Mode == Cluster {
		routes, err := routeURLs(cfg.Cluster)
		if err != nil {
			return nil, err
		}
		opts.Routes = routes
		opts.Cluster = server.ClusterOpts{
			Name: cfg.Cluster.Name, Host: cfg.Cluster.Host, Port: cfg.Cluster.Port,
			Username: cfg.Cluster.User, Password: cfg.Cluster.Password,
		}
	}
	return opts, nil
}

func routeURLs(c ClusterConfig) ([]*url.URL, error) {
	var out []*url.URL
	for i, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("bus config: cluster.routes[%d]: want nats://host:port, got %q", i, r)
		}
		u.User = url.UserPassword(c.User, c.Password)
		out = append(out, u)
	}
	return out, nil
}

// generatedUsers is one user per role, named after it, with a random password.
func generatedUsers() []User {
	var users []User
	for _, r := range Roles() {
		users = append(users, User{Name: string(r), Role: r, Password: rand.Text()})
	}
	return users
}

func readyTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return 30 * time.Second
}
