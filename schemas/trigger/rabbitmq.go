package trigger

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RabbitMQ reads a queue's backlog (QueueLength) or publish rate (MessageRate).
type RabbitMQ struct {
	Host                  string  `trigger:"host,secret,from=meta|auth|env"` // amqp(s):// or http(s)://, may hold credentials
	Username              string  `trigger:"username,secret,optional,from=auth|env"`
	Password              string  `trigger:"password,secret,optional,from=auth|env"`
	Protocol              string  `trigger:"protocol,default=auto,enum=auto|amqp|http,from=meta|auth"`
	QueueName             string  `trigger:"queueName"`
	Mode                  string  `trigger:"mode,default=QueueLength,enum=QueueLength|MessageRate"`
	Value                 float64 `trigger:"value,alias=queueLength,default=20,target"`
	ActivationValue       float64 `trigger:"activationValue,default=0,activation"`
	VhostName             string  `trigger:"vhostName,optional,from=meta|auth"`
	UseRegex              bool    `trigger:"useRegex,default=false"`
	Operation             string  `trigger:"operation,default=sum,enum=sum|max|avg"`
	PageSize              int64   `trigger:"pageSize,default=100"`
	ExcludeUnacknowledged bool    `trigger:"excludeUnacknowledged,default=false"`
	UnsafeSSL             bool    `trigger:"unsafeSsl,default=false"`
	TimeoutMS             int64   `trigger:"timeout,optional"`
	// TLS client settings (amqps:// and https:// hosts), from a TriggerAuthentication as in KEDA.
	TLS         string `trigger:"tls,default=disable,enum=enable|disable,from=auth"`
	CA          string `trigger:"ca,secret,optional,from=auth"`
	Cert        string `trigger:"cert,secret,optional,from=auth"`
	Key         string `trigger:"key,secret,optional,from=auth"`
	KeyPassword string `trigger:"keyPassword,secret,optional,from=auth"`
}

// MetricDetail is the queue name.
func (m RabbitMQ) MetricDetail() string { return m.QueueName }

// HTTP reports whether the management API is used: protocol http, or auto with an http host.
func (m RabbitMQ) HTTP() bool {
	if m.Protocol != "auto" {
		return m.Protocol == "http"
	}
	return strings.HasPrefix(m.Host, "http://") || strings.HasPrefix(m.Host, "https://")
}

func (m RabbitMQ) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	// With an unresolved host under auto, the protocol is unknown: only an explicit amqp is wrong.
	amqp := m.Protocol == "amqp" || (m.Protocol == "auto" && m.Host != "" && !m.HTTP())
	if amqp {
		for _, r := range []struct {
			name  string
			value any
			on    bool
		}{
			{"mode", m.Mode, m.Mode == "MessageRate"},
			{"useRegex", m.UseRegex, m.UseRegex},
			{"excludeUnacknowledged", m.ExcludeUnacknowledged, m.ExcludeUnacknowledged},
		} {
			if r.on {
				errs = append(errs, field.Invalid(c.path(r.name), r.value, "needs the http protocol (the management API), not amqp"))
			}
		}
	}
	if m.PageSize < 1 {
		errs = append(errs, field.Invalid(c.path("pageSize"), m.PageSize, "must be at least 1"))
	}
	if m.TimeoutMS < 0 {
		errs = append(errs, field.Invalid(c.path("timeout"), m.TimeoutMS, "must not be negative"))
	}
	if c.has("username") != c.has("password") {
		errs = append(errs, field.Required(c.path("password"), "username and password go together"))
	}
	if c.has("cert") != c.has("key") {
		errs = append(errs, field.Required(c.path("key"), "tls needs cert and key together"))
	}
	return errs
}
