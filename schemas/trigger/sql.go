package trigger

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PostgreSQL runs a query returning one number. With notifyChannel, the poller also LISTENs on
// that channel and polls at once on every NOTIFY (push wake-ups, docs/scalers/push-wakeups.md).
type PostgreSQL struct {
	Connection                 string  `trigger:"connection,secret,optional,from=auth|env"`
	Host                       string  `trigger:"host,optional,from=auth|meta"`
	Port                       string  `trigger:"port,optional,from=auth|meta"`
	UserName                   string  `trigger:"userName,optional,from=auth|meta"`
	DBName                     string  `trigger:"dbName,optional,from=auth|meta"`
	SSLMode                    string  `trigger:"sslmode,optional,from=auth|meta"`
	Password                   string  `trigger:"password,secret,optional,from=auth|env"`
	Query                      string  `trigger:"query"`
	TargetQueryValue           float64 `trigger:"targetQueryValue,target"`
	ActivationTargetQueryValue float64 `trigger:"activationTargetQueryValue,default=0,activation"`
	// ebb extension (KEDA has none): a channel to LISTEN on, named exactly as pg_notify names
	// it (case kept); every NOTIFY on it polls at once.
	NotifyChannel string `trigger:"notifyChannel,optional"`
}

// maxChannel is the longest PostgreSQL identifier, and so channel name, in bytes (NAMEDATALEN - 1).
const maxChannel = 63

// MetricDetail is empty: KEDA names the metric s<i>-postgresql.
func (m PostgreSQL) MetricDetail() string { return "" }

func (m PostgreSQL) validate(c *check) field.ErrorList {
	errs := connectionOr(c, "connection", "host", "port", "userName", "dbName", "sslmode")
	switch ch := m.NotifyChannel; {
	case len(ch) > maxChannel:
		errs = append(errs, field.TooLong(c.path("notifyChannel"), ch, maxChannel))
	case strings.ContainsRune(ch, 0):
		errs = append(errs, field.Invalid(c.path("notifyChannel"), ch, "must not contain a NUL byte"))
	}
	return errs
}

// MySQL runs a query returning one number.
type MySQL struct {
	ConnectionString     string  `trigger:"connectionString,secret,optional,from=auth|env"`
	Host                 string  `trigger:"host,optional,from=meta|auth"`
	Port                 string  `trigger:"port,optional,from=meta|auth"`
	Username             string  `trigger:"username,optional,from=meta|auth|env"`
	Password             string  `trigger:"password,secret,optional,from=auth|env"`
	DBName               string  `trigger:"dbName,optional,from=meta|auth"`
	Query                string  `trigger:"query"`
	QueryValue           float64 `trigger:"queryValue,target"`
	ActivationQueryValue float64 `trigger:"activationQueryValue,default=0,activation"`
}

// MetricDetail is the database name, as KEDA names the metric s<i>-mysql-<dbName>.
func (m MySQL) MetricDetail() string { return m.DBName }

func (m MySQL) validate(c *check) field.ErrorList {
	return connectionOr(c, "connectionString", "host", "port", "username", "dbName")
}

// connectionOr requires either the connection parameter or every one of the parts.
func connectionOr(c *check, connection string, parts ...string) field.ErrorList {
	if c.has(connection) {
		return nil
	}
	var errs field.ErrorList
	for _, p := range parts {
		if !c.has(p) {
			errs = append(errs, field.Required(c.path(p), "set "+connection+" (TriggerAuthentication or "+connection+"FromEnv), or "+p+" with the other connection parts"))
		}
	}
	return errs
}
