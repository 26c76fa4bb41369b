package trigger

import (
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NATSJetStream reads a consumer's lag (pending plus ack-pending) from the monitoring endpoint.
// The poller also subscribes to the stream's subjects on a client connection and polls at once
// when a message arrives after a quiet spell (push wake-ups, docs/scalers/push-wakeups.md).
type NATSJetStream struct {
	MonitoringEndpoint     string `trigger:"natsServerMonitoringEndpoint,from=auth|meta|env"`
	Account                string `trigger:"account,default=$G,from=auth|meta"`
	Stream                 string `trigger:"stream"`
	Consumer               string `trigger:"consumer"`
	LagThreshold           int64  `trigger:"lagThreshold,default=10,target"`
	ActivationLagThreshold int64  `trigger:"activationLagThreshold,default=0,activation"`
	UseHTTPS               bool   `trigger:"useHttps,default=false"`
	// ebb extension (KEDA has none): the client URLs, comma separated, on which the poller
	// subscribes for push wake-ups, such as nats://user:password@nats:4222; default: the
	// monitoring host at the client port its /varz reports, without credentials.
	ServerURL string `trigger:"natsServerURL,secret,optional,from=auth|meta|env"`
}

// MetricDetail is the stream name.
func (m NATSJetStream) MetricDetail() string { return m.Stream }

func (m NATSJetStream) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if m.ActivationLagThreshold < 0 {
		errs = append(errs, field.Invalid(c.path("activationLagThreshold"), m.ActivationLagThreshold, "must not be negative"))
	}
	if m.ServerURL != "" && !natsURLs(m.ServerURL) {
		errs = append(errs, field.Invalid(c.path("natsServerURL"), field.OmitValueType{},
			"must be client URLs, comma separated, each nats://, tls://, ws:// or wss:// with a host, such as nats://nats:4222"))
	}
	return errs
}

// natsURLs reports whether s is a comma-separated list of NATS client URLs.
func natsURLs(s string) bool {
	for u := range strings.SplitSeq(s, ",") {
		parsed, err := url.Parse(strings.TrimSpace(u))
		if err != nil || parsed.Host == "" || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, parsed.Scheme) {
			return false
		}
	}
	return true
}
