package trigger

import "testing"

func TestPrometheus(t *testing.T) {
	const query = `sum(rate(http_requests_total{deployment="my-deployment"}[2m]))`
	noAuth := HTTPAuth{Method: "header"}
	runParse(t, "prometheus", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("serverAddress", "http://prometheus-host:9090", "query", query,
				"threshold", "100.50", "activationThreshold", "5.5", "namespace", "example-namespace",
				"customHeaders", "X-Client-Id=cid,X-Tenant-Id=tid,X-Organization-Id=oid", "ignoreNullValues", "false",
				"queryParameters", "key-1=value-1,key-2=value-2", "unsafeSsl", "false")},
			want: Prometheus{ServerAddress: "http://prometheus-host:9090", Query: query,
				Threshold: 100.5, ActivationThreshold: 5.5, Namespace: "example-namespace",
				CustomHeaders:   map[string]string{"X-Client-Id": "cid", "X-Tenant-Id": "tid", "X-Organization-Id": "oid"},
				QueryParameters: map[string]string{"key-1": "value-1", "key-2": "value-2"}, HTTPAuth: noAuth},
		},
		"defaults": {
			p:    Params{Metadata: md("serverAddress", "https://p:9090", "query", "up", "threshold", "1", "timeout", "2500")},
			want: Prometheus{ServerAddress: "https://p:9090", Query: "up", Threshold: 1, IgnoreNullValues: true, TimeoutMS: 2500, HTTPAuth: noAuth},
		},
		"bearer token from the TriggerAuthentication": {
			p: Params{Metadata: md("serverAddress", "https://p:9090", "query", "up", "threshold", "1", "authModes", "bearer"),
				Auth: md("bearerToken", "tok", "ca", "CA")},
			want: Prometheus{ServerAddress: "https://p:9090", Query: "up", Threshold: 1, IgnoreNullValues: true,
				HTTPAuth: HTTPAuth{AuthModes: []string{"bearer"}, BearerToken: "tok", CA: "CA", Method: "header"}},
		},
		"tls and basic, modes from the TriggerAuthentication": {
			p: Params{Metadata: md("serverAddress", "https://p:9090", "query", "up", "threshold", "1"),
				Auth: md("authModes", "tls,basic", "username", "u", "password", "p", "ca", "CA", "cert", "C", "key", "K")},
			want: Prometheus{ServerAddress: "https://p:9090", Query: "up", Threshold: 1, IgnoreNullValues: true,
				HTTPAuth: HTTPAuth{AuthModes: []string{"tls", "basic"}, Username: "u", Password: "p", CA: "CA", Cert: "C", Key: "K", Method: "header"}},
		},
		"custom header and the singular authMode": {
			p: Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authMode", "custom"),
				Auth: md("customAuthHeader", "X-Auth-Token", "customAuthValue", "v")},
			want: Prometheus{ServerAddress: "http://p:9090", Query: "up", Threshold: 1, IgnoreNullValues: true,
				HTTPAuth: HTTPAuth{AuthModes: []string{"custom"}, CustomAuthHeader: "X-Auth-Token", CustomAuthValue: "v", Method: "header"}},
		},
		"credentials in metadata are not read": {
			p: Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "bearer",
				"bearerToken", "in-the-clear")},
			errs: []string{"spec.triggers[0].metadata.bearerToken: Required value: authModes bearer needs TriggerAuthentication parameter bearerToken"},
		},
		"missing threshold": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "query", "up")},
			errs: []string{"spec.triggers[0].metadata.threshold: Required value"},
		},
		"missing query": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "threshold", "1")},
			errs: []string{"spec.triggers[0].metadata.query: Required value"},
		},
		"server address not a URL": {
			p:    Params{Metadata: md("serverAddress", "prometheus:9090", "query", "up", "threshold", "1")},
			errs: []string{`spec.triggers[0].metadata.serverAddress: Invalid value: "prometheus:9090": must be an http or https URL`},
		},
		"unknown auth mode and basic without username": {
			p: Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "basic,digest")},
			errs: []string{
				"spec.triggers[0].metadata.username: Required value: authModes basic needs TriggerAuthentication parameter username",
				`spec.triggers[0].metadata.authModes: Unsupported value: "digest": supported values: "basic", "bearer", "tls", "custom"`,
			},
		},
		"apiKey is a metrics-api mode": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "apiKey"), Auth: md("apiKey", "k")},
			errs: []string{`spec.triggers[0].metadata.authModes: Unsupported value: "apiKey": supported values: "basic", "bearer", "tls", "custom"`},
		},
		"basic and bearer together": {
			p: Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "basic,bearer"),
				Auth: md("username", "u", "bearerToken", "t")},
			errs: []string{`spec.triggers[0].metadata.authModes: Invalid value: "basic,bearer": basic and bearer both set the Authorization header: use one`},
		},
		"tls without key, custom without value": {
			p: Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "tls,custom"),
				Auth: md("cert", "C", "customAuthHeader", "X-A")},
			errs: []string{
				"spec.triggers[0].metadata.key: Required value: authModes tls needs TriggerAuthentication parameter key",
				"spec.triggers[0].metadata.customAuthValue: Required value: authModes custom needs TriggerAuthentication parameter customAuthValue",
			},
		},
		"bad header list": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "customHeaders", "X-Id")},
			errs: []string{`spec.triggers[0].metadata.customHeaders: Invalid value: "X-Id": must be key=value pairs separated by commas`},
		},
		"ignoreNullValues not a bool, negative timeout": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "ignoreNullValues", "maybe", "timeout", "-1")},
			errs: []string{`spec.triggers[0].metadata.ignoreNullValues: Invalid value: "maybe": must be true or false`},
		},
		"negative timeout": {
			p:    Params{Metadata: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "timeout", "-1")},
			errs: []string{"spec.triggers[0].metadata.timeout: Invalid value: -1: must not be negative"},
		},
	})
}

// The admission webhook parses with Unresolved set and only the names of the
// TriggerAuthentication's parameters (services/actuator/webhook/validate).
func TestPrometheusAdmission(t *testing.T) {
	runAdmission(t, "prometheus", map[string]admissionCase{
		"bearer with its token in the TriggerAuthentication": {
			meta: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "bearer"), auth: []string{"bearerToken"},
		},
		"modes in an authentication that could not be read": {
			meta: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1"), unknownAuth: true,
		},
		"bearer without a token": {
			meta: md("serverAddress", "http://p:9090", "query", "up", "threshold", "1", "authModes", "bearer"), auth: []string{"ca"},
			errs: []string{"spec.triggers[0].metadata.bearerToken: Required value: authModes bearer needs TriggerAuthentication parameter bearerToken"},
		},
		"threshold zero": {
			meta: md("serverAddress", "http://p:9090", "query", "up", "threshold", "0"),
			errs: []string{`spec.triggers[0].metadata.threshold: Invalid value: "0": must be greater than 0`},
		},
	})
}
