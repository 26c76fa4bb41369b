package trigger

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MetricsAPI reads a number from an HTTP GET of url: from a JSON document at the GJSON path
// valueLocation, or (format prometheus) from a text exposition, the series valueLocation
// selects.
type MetricsAPI struct {
	URL                   string  `trigger:"url"`
	ValueLocation         string  `trigger:"valueLocation"`
	Format                string  `trigger:"format,default=json,enum=json|prometheus"`
	TargetValue           float64 `trigger:"targetValue,target"`
	ActivationTargetValue float64 `trigger:"activationTargetValue,default=0,activation"`
	UnsafeSSL             bool    `trigger:"unsafeSsl,default=false"`
	TimeoutMS             int64   `trigger:"timeout,optional"` // milliseconds
	HTTPAuth
}

// Metrics API response formats.
const (
	FormatJSON       = "json"
	FormatPrometheus = "prometheus"
)

// MetricDetail is the value location.
func (m MetricsAPI) MetricDetail() string { return m.ValueLocation }

// metricKind is KEDA's name for the scaler in metric names: s<i>-metric-api-<valueLocation>.
func (m MetricsAPI) metricKind() string { return "metric-api" }

func (m MetricsAPI) validate(c *check) field.ErrorList {
	errs := httpURL(c, "url", m.URL)
	errs = append(errs, m.HTTPAuth.validate(c, AuthAPIKey, AuthBasic, AuthTLS, AuthBearer)...)
	if m.Format == FormatPrometheus {
		if _, err := ParseMetricSelector(m.ValueLocation); err != nil {
			errs = append(errs, field.Invalid(c.path("valueLocation"), m.ValueLocation, "format prometheus: "+err.Error()))
		}
	}
	if m.TimeoutMS < 0 {
		errs = append(errs, field.Invalid(c.path("timeout"), m.TimeoutMS, "must not be negative"))
	}
	return errs
}
