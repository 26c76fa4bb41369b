package bustest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ebb.dev/bus"
)

// Bus is a bus node started for a test, with a user per role (named after the role) whose
// password it knows.
type Bus struct {
	*bus.Server
	Config bus.Config
	peers  []*Bus // every node of its cluster, itself included; nil for a single node
}

// Option changes the Config a node starts with.
type Option func(*bus.Config)

// StoreDir keeps JetStream in dir, so a test can start a second server on the first one's data.
func StoreDir(dir string) Option { return func(c *bus.Config) { c.StoreDir = dir } }

// Start runs a single node on a free loopback port with JetStream in a temporary directory
// and shuts it down when the test ends.
func Start(t testing.TB, opts ...Option) *Bus {
	t.Helper()
	cfg := bus.Config{
		Mode:     bus.Single,
		Name:     "ebb-test",
		Host:     "127.0.0.1",
		Port:     -1,
		StoreDir: t.TempDir(),
		Users:    Users(),
		Logger:   Logger(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return start(t, cfg)
}

func start(t testing.TB, cfg bus.Config) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := bus.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("bustest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return &Bus{Server: s, Config: cfg}
}

// Restart shuts the node down and starts it again on the same store, users and name (on a
// new port when the port was -1). Connections made before must be made again.
func (b *Bus) Restart(t testing.TB) {
	t.Helper()
	b.Shutdown()
	b.Server = start(t, b.Config).Server
}

// Users is one user per role, named after it, with a random password.
func Users() []bus.User {
	var users []bus.User
	for _, r := range bus.Roles() {
		users = append(users, bus.User{Name: string(r), Role: r, Password: rand.Text()})
	}
	return users
}

// Logger writes warnings and errors to the test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ClientConfig is how a service of the given role dials this node (or, in a cluster, every
// node) over TCP, trusting the bus's CA when it serves TLS.
func (b *Bus) ClientConfig(role bus.Role) bus.ClientConfig {
	cc := bus.ClientConfig{User: string(role), Prefix: b.Config.Prefix, Logger: b.Config.Logger}
	for _, u := range b.Config.Users {
		if u.Name == string(role) {
			cc.Password = u.Password
		}
	}
	if b.Config.TLS != nil {
		cc.CAFile = b.Config.TLS.CAFile
	}
	cc.URL = b.ClientURL()
	if b.peers != nil {
		var urls []string
		for _, p := range b.peers {
			urls = append(urls, p.ClientURL())
		}
		cc.URL = strings.Join(urls, ",")
	}
	return cc
}

// Connect dials the bus over TCP as role and closes the connection when the test ends.
func (b *Bus) Connect(t testing.TB, role bus.Role) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := bus.Connect(ctx, b.ClientConfig(role))
	if err != nil {
		t.Fatalf("bustest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// ConnectInProcess connects as role without a socket and closes the connection when the
// test ends.
func (b *Bus) ConnectInProcess(t testing.TB, role bus.Role) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Server.Connect(ctx, string(role))
	if err != nil {
		t.Fatalf("bustest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
