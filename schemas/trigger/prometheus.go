package trigger

import (
	"net/url"
	"slices"

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
	TimeoutMS           int64             `trigger:"timeout,optional"`
	AuthModes           []string          `trigger:"authModes,optional,from=auth|meta"`
	Username            string            `trigger:"username,secret,optional,from=auth"`
	Password            string            `trigger:"password,secret,optional,from=auth"`
	BearerToken         string            `trigger:"bearerToken,secret,optional,from=auth"`
	CA                  string            `trigger:"ca,secret,optional,from=auth"`
	Cert                string            `trigger:"cert,secret,optional,from=auth"`
	Key                 string            `trigger:"key,secret,optional,from=auth"`
}

// MetricDetail is empty: KEDA names the metric s<i>-prometheus.
func (m Prometheus) MetricDetail() string { return "" }

func (m Prometheus) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if u, err := url.Parse(m.ServerAddress); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, field.Invalid(c.path("serverAddress"), m.ServerAddress, "must be an http or https URL"))
	}
	errs = append(errs, authModes(c, m.AuthModes, "basic", "bearer", "tls")...)
	if m.TimeoutMS < 0 {
		errs = append(errs, field.Invalid(c.path("timeout"), m.TimeoutMS, "must not be negative"))
	}
	return errs
}

// authModes checks each listed mode is one of supported and has the parameters it needs.
func authModes(c *check, modes []string, supported ...string) field.ErrorList {
	needs := map[string][]string{
		"basic":  {"username"},
		"bearer": {"bearerToken"},
		"tls":    {"cert", "key"},
		"apiKey": {"apiKey"},
	}
	var errs field.ErrorList
	for _, mode := range modes {
		if !slices.Contains(supported, mode) {
			errs = append(errs, field.NotSupported(c.path("authModes"), mode, supported))
			continue
		}
		for _, name := range needs[mode] {
			if !c.has(name) {
				errs = append(errs, field.Required(c.path(name), "authModes "+mode+" needs TriggerAuthentication parameter "+name))
			}
		}
	}
	return errs
}
