package trigger

import "k8s.io/apimachinery/pkg/util/validation/field"

// NATSJetStream reads a consumer's lag (pending plus ack-pending) from the monitoring endpoint.
type NATSJetStream struct {
	MonitoringEndpoint     string `trigger:"natsServerMonitoringEndpoint,from=auth|meta|env"`
	Account                string `trigger:"account,default=$G,from=auth|meta"`
	Stream                 string `trigger:"stream"`
	Consumer               string `trigger:"consumer"`
	LagThreshold           int64  `trigger:"lagThreshold,default=10,target"`
	ActivationLagThreshold int64  `trigger:"activationLagThreshold,default=0,activation"`
	UseHTTPS               bool   `trigger:"useHttps,default=false"`
}

// MetricDetail is the stream name.
func (m NATSJetStream) MetricDetail() string { return m.Stream }

func (m NATSJetStream) validate(c *check) field.ErrorList {
	if m.ActivationLagThreshold < 0 {
		return field.ErrorList{field.Invalid(c.path("activationLagThreshold"), m.ActivationLagThreshold, "must not be negative")}
	}
	return nil
}
