package trigger

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Prometheus runs an instant query that must return exactly one sample.
type Prometheus struct {
	ServerAddress       string            `trigger:"serverAddress"`
	Query               string            `trigger:"query"`
	Threshold           float64           `trigger:"threshold,target"`
	ActivationThreshold float64           `trigger:"activationThreshold,default=0,activation"`
	QueryParameters     map[string]string `trigger:"queryParameters,optional"`
	Namespace           string            `trigger:"namespace,optional"`
	CustomHeaders       map[string]string `trigger:"customHeaders,optional"`
	IgnoreNullValues    bool              `trigger:"ignoreNullValues,default=true"`
	UnsafeSSL           bool              `trigger:"unsafeSsl,default=false"`
	TimeoutMS           int64             `trigger:"timeout,optional"` // milliseconds
	HTTPAuth
}

// MetricDetail is empty: KEDA names the metric s<i>-prometheus.
func (m Prometheus) MetricDetail() string { return "" }

func (m Prometheus) validate(c *check) field.ErrorList {
	errs := httpURL(c, "serverAddress", m.ServerAddress)
	errs = append(errs, m.HTTPAuth.validate(c, AuthBasic, AuthBearer, AuthTLS, AuthCustom)...)
	if m.TimeoutMS < 0 {
		errs = append(errs, field.Invalid(c.path("timeout"), m.TimeoutMS, "must not be negative"))
	}
	return errs
}
