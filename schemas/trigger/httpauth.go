package trigger

import (
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// HTTPAuth is how an HTTP scaler (prometheus, metrics-api) authenticates, with KEDA's
// parameters: authModes (or authMode) lists the modes, and each mode's credentials come from
// the TriggerAuthentication only. A CA is used whatever the modes, as in KEDA.
type HTTPAuth struct {
	AuthModes        []string `trigger:"authModes,alias=authMode,optional,from=meta|auth"`
	Username         string   `trigger:"username,secret,optional,from=auth"`
	Password         string   `trigger:"password,secret,optional,from=auth"`
	BearerToken      string   `trigger:"bearerToken,alias=token,secret,optional,from=auth"`
	CustomAuthHeader string   `trigger:"customAuthHeader,optional,from=auth"`
	CustomAuthValue  string   `trigger:"customAuthValue,secret,optional,from=auth"`
	APIKey           string   `trigger:"apiKey,secret,optional,from=auth"`
	Method           string   `trigger:"method,default=header,enum=header|query,from=meta|auth"`
	KeyParamName     string   `trigger:"keyParamName,optional,from=meta|auth"`
	CA               string   `trigger:"ca,secret,optional,from=auth"`
	Cert             string   `trigger:"cert,secret,optional,from=auth"`
	Key              string   `trigger:"key,secret,optional,from=auth"`
}

// HTTP authentication modes.
const (
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthTLS    = "tls"
	AuthCustom = "custom"
	AuthAPIKey = "apiKey"
)

// Has reports whether mode is among the trigger's authModes.
func (a HTTPAuth) Has(mode string) bool { return slices.Contains(a.AuthModes, mode) }

// authNeeds are the TriggerAuthentication parameters each mode cannot do without (a basic
// password may be empty, as many APIs take a key as the user name).
var authNeeds = map[string][]string{
	AuthBasic:  {"username"},
	AuthBearer: {"bearerToken"},
	AuthTLS:    {"cert", "key"},
	AuthCustom: {"customAuthHeader", "customAuthValue"},
	AuthAPIKey: {"apiKey"},
}

// validate checks each mode is one of supported and has its parameters, and that at most one
// of the modes that set the Authorization header (basic, bearer) is used.
func (a HTTPAuth) validate(c *check, supported ...string) field.ErrorList {
	var errs field.ErrorList
	for _, mode := range a.AuthModes {
		if !slices.Contains(supported, mode) {
			errs = append(errs, field.NotSupported(c.path("authModes"), mode, supported))
			continue
		}
		for _, name := range authNeeds[mode] {
			if !c.has(name) {
				errs = append(errs, field.Required(c.path(name), "authModes "+mode+" needs TriggerAuthentication parameter "+name))
			}
		}
	}
	if a.Has(AuthBasic) && a.Has(AuthBearer) {
		errs = append(errs, field.Invalid(c.path("authModes"), strings.Join(a.AuthModes, ","), "basic and bearer both set the Authorization header: use one"))
	}
	return errs
}

// httpURL checks that the parameter name holds an absolute http or https URL.
func httpURL(c *check, name, value string) field.ErrorList {
	if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return field.ErrorList{field.Invalid(c.path(name), value, "must be an http or https URL")}
	}
	return nil
}
