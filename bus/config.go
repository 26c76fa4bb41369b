package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nkeys"

	"ebb.dev/schemas/msg"
)

// Mode says how the bus runs.
type Mode string

const (
	// Single runs the bus inside one process (ebb dev, tests). Without Users, Start makes a
	// user per role with a random password that only Server.Connect knows.
	Single Mode = "single"
	// Standalone runs one bus process that services reach over TCP.
	Standalone Mode = "standalone"
	// Cluster runs one of three bus processes joined by routes; streams keep three replicas.
	Cluster Mode = "cluster"
)

// Role is what a user may do on the bus; see the package documentation for each role's rights.
type Role string

const (
	RolePoller     Role = "poller"
	RoleDecider    Role = "decider"
	RoleActuator   Role = "actuator"
	RoleMetricsAPI Role = "metrics-api"
	RoleTap        Role = "tap"
	RoleAdmin      Role = "admin"
)

// Roles lists every role in a stable order.
func Roles() []Role {
	return []Role{RolePoller, RoleDecider, RoleActuator, RoleMetricsAPI, RoleTap, RoleAdmin}
}

// User is one identity allowed on the bus. Exactly one of Password and NKey is set.
type User struct {
	Name     string
	Role     Role
	Password string // plain text or a bcrypt hash ($2a$...), as nats-server accepts
	NKey     string // public user NKey (starts with U)
}

// TLS configures the client listener's certificate; with VerifyClients, clients must present
// a certificate signed by CAFile.
type TLS struct {
	CertFile      string
	KeyFile       string
	CAFile        string
	VerifyClients bool
}

// ClusterConfig joins this server to the others by routes. Routes list the route URLs
// (nats://host:port) of every node, this one's included (a node skips its own), so the same
// list serves every node. User and Password authenticate routes and must be the same on
// every node.
type ClusterConfig struct {
	Name     string // default "ebb"
	Host     string // default "0.0.0.0"
	Port     int    // default 6222; -1 picks a free port
	Routes   []string
	User     string
	Password string
}

// Config is everything Start needs. Zero values mean the documented defaults.
type Config struct {
	Mode      Mode   // default Single
	Name      string // server name, unique per node; required in Cluster mode, default "ebb"
	Host      string // client listen address; default 127.0.0.1 in Single mode, else 0.0.0.0
	Port      int    // client port; default 4222, -1 picks a free port
	NoListen  bool   // Single mode only: accept in-process connections only
	HTTPPort  int    // monitoring port (/varz, /jsz); 0 is off, -1 picks a free port
	StoreDir  string // JetStream file store; required
	Prefix    msg.Prefix
	Users     []User // required outside Single mode
	TLS       *TLS
	Cluster   ClusterConfig // Cluster mode only
	MaxMemory int64         // JetStream memory limit in bytes; default nats-server's

	AuditMaxAge    time.Duration // default 7 days
	AuditMaxBytes  int64         // default 1 GiB
	ReadingsMaxAge time.Duration // default 0: a reading stays until its key is deleted
	PollerTTL      time.Duration // default 15 s

	Logger *slog.Logger // default discards
}

// Defaults for Config.
const (
	DefaultPort          = 4222
	DefaultClusterPort   = 6222
	DefaultAuditMaxAge   = 7 * 24 * time.Hour
	DefaultAuditMaxBytes = 1 << 30
	DefaultPollerTTL     = 15 * time.Second
)

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = Single
	}
	if c.Name == "" {
		c.Name = "ebb"
	}
	if c.Host == "" {
		c.Host = "0.0.0.0"
		if c.Mode == Single {
			c.Host = "127.0.0.1"
		}
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Prefix == "" {
		c.Prefix = msg.DefaultPrefix
	}
	if c.Cluster.Name == "" {
		c.Cluster.Name = "ebb"
	}
	if c.Cluster.Host == "" {
		c.Cluster.Host = "0.0.0.0"
	}
	if c.Cluster.Port == 0 {
		c.Cluster.Port = DefaultClusterPort
	}
	if c.AuditMaxAge == 0 {
		c.AuditMaxAge = DefaultAuditMaxAge
	}
	if c.AuditMaxBytes == 0 {
		c.AuditMaxBytes = DefaultAuditMaxBytes
	}
	if c.PollerTTL == 0 {
		c.PollerTTL = DefaultPollerTTL
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every setting Start would refuse, naming the field.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch c.Mode {
	case Single, Standalone, Cluster:
	default:
		bad("mode", "want single, standalone or cluster, got %q", c.Mode)
	}
	if c.StoreDir == "" {
		bad("storeDir", "must be set")
	}
	if err := c.Prefix.Validate(); err != nil {
		bad("prefix", "%v", err)
	}
	if c.NoListen && c.Mode != Single {
		bad("noListen", "only Single mode may run without a listener")
	}
	if c.Mode != Single && len(c.Users) == 0 {
		bad("users", "authentication is required in %s mode", c.Mode)
	}
	errs = append(errs, validateUsers(c.Users)...)
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		bad("tls", "certFile and keyFile must both be set")
	}
	if c.TLS != nil && c.TLS.VerifyClients && c.TLS.CAFile == "" {
		bad("tls.caFile", "must be set to verify clients")
	}
	if c.Mode == Cluster {
		if len(c.Cluster.Routes) == 0 {
			bad("cluster.routes", "must list the other nodes (JetStream clustering needs configured routes)")
		}
		if c.Cluster.User == "" || c.Cluster.Password == "" {
			bad("cluster.user", "routes must authenticate: set user and password")
		}
	}
	if c.AuditMaxAge < 0 || c.AuditMaxBytes < 0 || c.ReadingsMaxAge < 0 || c.PollerTTL < 0 {
		bad("retention", "ages and sizes must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("bus config: %w", errors.Join(errs...))
	}
	return nil
}

func validateUsers(users []User) []error {
	var errs []error
	seen := map[string]bool{}
	for i, u := range users {
		field := fmt.Sprintf("users[%d]", i)
		switch {
		case !validName(u.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q: only letters, digits, '-' and '_' are allowed", field, u.Name))
		case u.Name == internalUser:
			errs = append(errs, fmt.Errorf("%s.name: %q is reserved for the bus itself", field, u.Name))
		case seen[u.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is listed twice", field, u.Name))
		}
		seen[u.Name] = true
		if !slices.Contains(Roles(), u.Role) {
			errs = append(errs, fmt.Errorf("%s.role: unknown role %q", field, u.Role))
		}
		if (u.Password == "") == (u.NKey == "") {
			errs = append(errs, fmt.Errorf("%s: set exactly one of password and nkey", field))
		}
		if u.NKey != "" && !nkeys.IsValidPublicUserKey(u.NKey) {
			errs = append(errs, fmt.Errorf("%s.nkey: not a public user NKey", field))
		}
	}
	return errs
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// LoadUsers reads users from a directory such as a mounted Secret: a file <user>.password
// holds a password (plain or bcrypt), a file <user>.nkey a public user NKey. The role is the
// user name or the name's prefix before a '-' suffix: "poller" and "poller-kafka" are
// pollers, "metrics-api" is metrics-api. Other files (Kubernetes' ..data links) are ignored.
func LoadUsers(dir string) ([]User, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load bus users: %w", err)
	}
	var users []User
	for _, e := range entries {
		name, kind, ok := strings.Cut(e.Name(), ".")
		if !ok || strings.HasPrefix(e.Name(), ".") || (kind != "password" && kind != "nkey") {
			continue
		}
		secret, err := ReadSecretFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load bus users: %w", err)
		}
		role, ok := roleOf(name)
		if !ok {
			return nil, fmt.Errorf("load bus users: %s: no role matches user %q", e.Name(), name)
		}
		u := User{Name: name, Role: role}
		if kind == "password" {
			u.Password = secret
		} else {
			u.NKey = secret
		}
		users = append(users, u)
	}
	if errs := validateUsers(users); len(errs) > 0 {
		return nil, fmt.Errorf("load bus users from %s: %w", dir, errors.Join(errs...))
	}
	return users, nil
}

// roleOf finds the role a user name stands for.
func roleOf(name string) (Role, bool) {
	for _, r := range Roles() {
		if name == string(r) || strings.HasPrefix(name, string(r)+"-") {
			return r, true
		}
	}
	return "", false
}

// ReadSecretFile reads a one-line secret, trimming the surrounding white space an editor or
// kubectl may add. The error never contains the secret.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("read secret %s: file is empty", path)
	}
	return s, nil
}
