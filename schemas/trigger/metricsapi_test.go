package trigger

import "testing"

func TestMetricsAPI(t *testing.T) {
	runParse(t, "metrics-api", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("targetValue", "8.8", "activationTargetValue", "3.8", "format", "json",
				"url", "http://api:3232/api/v1/stats", "valueLocation", "components.worker.tasks")},
			want: MetricsAPI{URL: "http://api:3232/api/v1/stats", ValueLocation: "components.worker.tasks", Format: "json",
				TargetValue: 8.8, ActivationTargetValue: 3.8, HTTPAuth: HTTPAuth{Method: "header"}},
		},
		"prometheus exposition with a selector and a timeout": {
			p: Params{Metadata: md("targetValue", "5", "url", "https://app:9100/metrics", "format", "prometheus",
				"valueLocation", `queue_depth{queue="orders"}`, "timeout", "1500", "unsafeSsl", "true")},
			want: MetricsAPI{URL: "https://app:9100/metrics", ValueLocation: `queue_depth{queue="orders"}`, Format: "prometheus",
				TargetValue: 5, UnsafeSSL: true, TimeoutMS: 1500, HTTPAuth: HTTPAuth{Method: "header"}},
		},
		"documented apiKey in the query string": {
			p: Params{Metadata: md("targetValue", "7", "url", "http://api:3232/components/stats", "valueLocation", "components.worker.tasks",
				"authMode", "apiKey", "method", "query", "keyParamName", "QUERY_KEY"), Auth: md("apiKey", "APIKEY")},
			want: MetricsAPI{URL: "http://api:3232/components/stats", ValueLocation: "components.worker.tasks", Format: "json", TargetValue: 7,
				HTTPAuth: HTTPAuth{AuthModes: []string{"apiKey"}, APIKey: "APIKEY", Method: "query", KeyParamName: "QUERY_KEY"}},
		},
		"documented bearer token, and tls with it": {
			p: Params{Metadata: md("targetValue", "7", "url", "https://api/x", "valueLocation", "v", "authMode", "bearer,tls"),
				Auth: md("token", "T", "ca", "CA", "cert", "C", "key", "K")},
			want: MetricsAPI{URL: "https://api/x", ValueLocation: "v", Format: "json", TargetValue: 7,
				HTTPAuth: HTTPAuth{AuthModes: []string{"bearer", "tls"}, BearerToken: "T", CA: "CA", Cert: "C", Key: "K", Method: "header"}},
		},
		"format ebb does not read": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "format", "xml")},
			errs: []string{`spec.triggers[0].metadata.format: Unsupported value: "xml": supported values: "json", "prometheus"`},
		},
		"apiKey mode without key": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "authMode", "apiKey")},
			errs: []string{"spec.triggers[0].metadata.apiKey: Required value: authModes apiKey needs TriggerAuthentication parameter apiKey"},
		},
		"api key in metadata is not read": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "authMode", "apiKey", "apiKey", "k")},
			errs: []string{"spec.triggers[0].metadata.apiKey: Required value: authModes apiKey needs TriggerAuthentication parameter apiKey"},
		},
		"custom is a prometheus mode": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "authMode", "custom")},
			errs: []string{`spec.triggers[0].metadata.authModes: Unsupported value: "custom": supported values: "apiKey", "basic", "tls", "bearer"`},
		},
		"unknown api key method": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "method", "cookie")},
			errs: []string{`spec.triggers[0].metadata.method: Unsupported value: "cookie": supported values: "header", "query"`},
		},
		"relative url": {
			p:    Params{Metadata: md("targetValue", "1", "url", "/api/x", "valueLocation", "v")},
			errs: []string{`spec.triggers[0].metadata.url: Invalid value: "/api/x": must be an http or https URL`},
		},
		"regex matcher in a prometheus selector": {
			p:    Params{Metadata: md("targetValue", "1", "url", "http://api/x", "format", "prometheus", "valueLocation", `up{job=~"a.*"}`)},
			errs: []string{`spec.triggers[0].metadata.valueLocation: Invalid value: "up{job=~\"a.*\"}": format prometheus: label job: only = matchers are supported`},
		},
		"missing target and value location": {
			p: Params{Metadata: md("url", "http://api/x")},
			errs: []string{
				"spec.triggers[0].metadata.valueLocation: Required value",
				"spec.triggers[0].metadata.targetValue: Required value",
			},
		},
	})
}

func TestMetricsAPIAdmission(t *testing.T) {
	runAdmission(t, "metrics-api", map[string]admissionCase{
		"basic with its user in the TriggerAuthentication": {
			meta: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "authMode", "basic"), auth: []string{"username"},
		},
		"mode named in the TriggerAuthentication": {
			meta: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v"), auth: []string{"authMode", "token"},
		},
		"tls without cert": {
			meta: md("targetValue", "1", "url", "http://api/x", "valueLocation", "v", "authMode", "tls"), auth: []string{"key"},
			errs: []string{"spec.triggers[0].metadata.cert: Required value: authModes tls needs TriggerAuthentication parameter cert"},
		},
		"prometheus selector naming two metrics": {
			meta: md("targetValue", "1", "url", "http://api/x", "format", "prometheus", "valueLocation", `up{__name__="down"}`),
			errs: []string{`spec.triggers[0].metadata.valueLocation: Invalid value: "up{__name__=\"down\"}": format prometheus: names two metrics, "up" and "down"`},
		},
	})
}
