package trigger

import (
	"net/url"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MetricsAPI reads a number from a JSON document at url, at the GJSON path valueLocation.
type MetricsAPI struct {
	URL                   string  `trigger:"url"`
	ValueLocation         string  `trigger:"valueLocation"`
	Format                string  `trigger:"format,default=json,enum=json"`
	TargetValue           float64 `trigger:"targetValue,target"`
	ActivationTargetValue float64 `trigger:"activationTargetValue,default=0,activation"`
	UnsafeSSL             bool    `trigger:"unsafeSsl,default=false"`
	AuthMode              string  `trigger:"authMode,optional,enum=apiKey|basic|tls|bearer,from=auth|meta"`
	Method                string  `trigger:"method,default=header,enum=header|query,from=auth|meta"`
	KeyParamName          string  `trigger:"keyParamName,optional,from=auth|meta"`
	APIKey                string  `trigger:"apiKey,secret,optional,from=auth"`
	Username              string  `trigger:"username,secret,optional,from=auth"`
	Password              string  `trigger:"password,secret,optional,from=auth"`
	Token                 string  `trigger:"token,secret,optional,from=auth"`
	CA                    string  `trigger:"ca,secret,optional,from=auth"`
	Cert                  string  `trigger:"cert,secret,optional,from=auth"`
	Key                   string  `trigger:"key,secret,optional,from=auth"`
}

// MetricDetail is the value location.
func (m MetricsAPI) MetricDetail() string { return m.ValueLocation }

func (m MetricsAPI) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if u, err := url.Parse(m.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, field.Invalid(c.path("url"), m.URL, "must be an http or https URL"))
	}
	needs := map[string][]string{"apiKey": {"apiKey"}, "basic": {"username"}, "tls": {"cert", "key"}, "bearer": {"token"}}
	for _, name := range needs[m.AuthMode] {
		if !c.has(name) {
			errs = append(errs, field.Required(c.path(name), "authMode "+m.AuthMode+" needs TriggerAuthentication parameter "+name))
		}
	}
	return errs
}
