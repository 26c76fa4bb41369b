package trigger

import (
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RedisConn is how redis and redis-streams reach the server: address, or host and port; TLS
// when enableTLS is true or the TriggerAuthentication sets tls to enable, as in KEDA.
type RedisConn struct {
	Address       string `trigger:"address,optional,from=meta|env|auth"`
	Host          string `trigger:"host,optional,from=meta|env|auth"`
	Port          string `trigger:"port,optional,from=meta|env|auth"`
	Username      string `trigger:"username,secret,optional,from=meta|env|auth"`
	Password      string `trigger:"password,secret,optional,from=env|auth"`
	DatabaseIndex int64  `trigger:"databaseIndex,default=0,from=meta|auth"`
	EnableTLS     bool   `trigger:"enableTLS,default=false,from=meta|auth"`
	UnsafeSSL     bool   `trigger:"unsafeSsl,default=false"`
	TLS           string `trigger:"tls,default=disable,enum=enable|disable,from=auth"`
	CA            string `trigger:"ca,secret,optional,from=auth"`
	Cert          string `trigger:"cert,secret,optional,from=auth"`
	Key           string `trigger:"key,secret,optional,from=auth"`
	KeyPassword   string `trigger:"keyPassword,secret,optional,from=auth"`
}

// Addr is the server's host:port.
func (r RedisConn) Addr() string {
	if r.Address != "" {
		return r.Address
	}
	return net.JoinHostPort(r.Host, r.Port)
}

// UseTLS reports whether the connection uses TLS.
func (r RedisConn) UseTLS() bool { return r.EnableTLS || r.TLS == "enable" }

// validate needs an address, or a host and a port.
func (r RedisConn) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.has("address"):
		if _, port, err := net.SplitHostPort(r.Address); r.Address != "" && (err != nil || !validPort(port)) {
			errs = append(errs, field.Invalid(c.path("address"), r.Address, "must be host:port, such as redis:6379"))
		}
	case !c.has("host"):
		errs = append(errs, field.Required(c.path("address"), "set address, or host and port (in metadata, <name>FromEnv or the TriggerAuthentication)"))
	case !c.has("port"):
		errs = append(errs, field.Required(c.path("port"), "host needs a port"))
	case r.Port != "" && !validPort(r.Port):
		errs = append(errs, field.Invalid(c.path("port"), r.Port, "must be a port number between 1 and 65535"))
	}
	if r.DatabaseIndex < 0 {
		errs = append(errs, field.Invalid(c.path("databaseIndex"), r.DatabaseIndex, "must not be negative"))
	}
	if c.has("cert") != c.has("key") {
		errs = append(errs, field.Required(c.path("key"), "tls needs cert and key together"))
	}
	return errs
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}

// Redis reads a list's length.
type Redis struct {
	RedisConn
	ListName             string `trigger:"listName"`
	ListLength           int64  `trigger:"listLength,default=5,target"`
	ActivationListLength int64  `trigger:"activationListLength,default=0,activation"`
}

// MetricDetail is the list name.
func (m Redis) MetricDetail() string { return m.ListName }

// RedisStreams reads a stream's pending entries of a consumer group, its lag, or its length.
type RedisStreams struct {
	RedisConn
	Stream              string `trigger:"stream"`
	ConsumerGroup       string `trigger:"consumerGroup,optional"`
	PendingEntriesCount int64  `trigger:"pendingEntriesCount,default=5"`
	StreamLength        int64  `trigger:"streamLength,default=5"`
	LagCount            int64  `trigger:"lagCount,optional"`
	ActivationLagCount  int64  `trigger:"activationLagCount,default=0,activation"`
}

// Redis stream scaling modes, chosen from which parameters are set, as in KEDA.
const (
	StreamModePending = "pendingEntriesCount" // consumerGroup set, lagCount not
	StreamModeLag     = "lagCount"            // consumerGroup and lagCount set
	StreamModeLength  = "streamLength"        // no consumerGroup
)

// Mode says what the trigger reads.
func (m RedisStreams) Mode() string {
	switch {
	case m.ConsumerGroup == "":
		return StreamModeLength
	case m.LagCount > 0:
		return StreamModeLag
	}
	return StreamModePending
}

func (m RedisStreams) target() float64 {
	switch m.Mode() {
	case StreamModeLength:
		return float64(m.StreamLength)
	case StreamModeLag:
		return float64(m.LagCount)
	}
	return float64(m.PendingEntriesCount)
}

// MetricDetail is the stream name.
func (m RedisStreams) MetricDetail() string { return m.Stream }

func (m RedisStreams) validate(c *check) field.ErrorList {
	errs := m.RedisConn.validate(c)
	for _, p := range []struct {
		name string
		v    int64
	}{{"pendingEntriesCount", m.PendingEntriesCount}, {"streamLength", m.StreamLength}} {
		if p.v < 1 {
			errs = append(errs, field.Invalid(c.path(p.name), p.v, "must be greater than 0"))
		}
	}
	if c.has("lagCount") && m.LagCount < 1 {
		errs = append(errs, field.Invalid(c.path("lagCount"), m.LagCount, "must be greater than 0"))
	}
	if c.has("lagCount") && m.ConsumerGroup == "" {
		errs = append(errs, field.Required(c.path("consumerGroup"), "lagCount needs a consumerGroup"))
	}
	return errs
}
