package scaler

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// metricsEndpoint is an HTTP API serving a JSON document and a Prometheus exposition with a
// value the test sets; it records the credentials of the last request.
type metricsEndpoint struct {
	value    atomic.Int64
	lastAuth atomic.Value // string: the credential the last request carried
	delay    atomic.Int64 // nanoseconds each response waits
	srv      *httptest.Server
}

func newMetricsEndpoint(t testing.TB, tlsCfg *tls.Config) *metricsEndpoint {
	e := &metricsEndpoint{}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		v := e.value.Load()
		fmt.Fprintf(w, `{"components":{"worker":{"tasks":%d,"memory":"%dMi"}},"queues":[{"name":"a","depth":1},{"name":"b","depth":%d}],"flag":true,"name":"x"}`, v, v, v)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		v := e.value.Load()
		fmt.Fprintln(w, "# HELP queue_depth Messages waiting.")
		fmt.Fprintln(w, "# TYPE queue_depth gauge")
		fmt.Fprintf(w, "queue_depth{queue=\"orders\",zone=\"a\"} %d\n", v)
		fmt.Fprintf(w, "queue_depth{queue=\"payments\",zone=\"a\"} %d\n", 2*v)
		fmt.Fprintln(w, "# TYPE jobs_total counter")
		fmt.Fprintf(w, "jobs_total %d\n", 10*v)
		fmt.Fprintln(w, "untyped_thing 1.5")
		fmt.Fprintln(w, "broken NaN")
		fmt.Fprintln(w, "# TYPE latency_seconds histogram")
		fmt.Fprintln(w, `latency_seconds_bucket{le="+Inf"} 3`)
		fmt.Fprintln(w, "latency_seconds_sum 1.2")
		fmt.Fprint(w, "latency_seconds_count 3\r\nlast 1") // CRLF and no final newline, as some exporters write
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>maintenance</html>") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "backend unavailable", http.StatusServiceUnavailable)
	})
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(e.delay.Load()))
		e.lastAuth.Store(credential(r))
		mux.ServeHTTP(w, r)
	}))
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsCfg != nil {
		e.srv.TLS = tlsCfg
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	return e
}

// credential is what a request authenticated with, in one string.
func credential(r *http.Request) string {
	var parts []string
	if a := r.Header.Get("Authorization"); a != "" {
		parts = append(parts, "Authorization="+a)
	}
	for _, h := range []string{"X-Api-Key", "X-Token"} {
		if v := r.Header.Get(h); v != "" {
			parts = append(parts, h+"="+v)
		}
	}
	for _, q := range []string{"api_key", "key"} {
		if v := r.URL.Query().Get(q); v != "" {
			parts = append(parts, "?"+q+"="+v)
		}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		parts = append(parts, "cert="+r.TLS.PeerCertificates[0].Subject.CommonName)
	}
	return strings.Join(parts, " ")
}

func TestMetricsAPIFollowsValues(t *testing.T) {
	e := newMetricsEndpoint(t, nil)
	meta := func(path, format, loc string) map[string]string {
		return map[string]string{"url": e.srv.URL + path, "format": format, "valueLocation": loc, "targetValue": "5"}
	}
	tests := map[string]struct {
		meta map[string]string
		read func(v int64) float64 // the reading when the source's value is v
	}{
		"json number":           {meta: meta("/stats", "json", "components.worker.tasks"), read: func(v int64) float64 { return float64(v) }},
		"json quantity string":  {meta: meta("/stats", "json", "components.worker.memory"), read: func(v int64) float64 { return float64(v << 20) }},
		"gjson query":           {meta: meta("/stats", "json", `queues.#(name=="b").depth`), read: func(v int64) float64 { return float64(v) }},
		"exposition by label":   {meta: meta("/metrics", "prometheus", `queue_depth{queue="payments"}`), read: func(v int64) float64 { return float64(2 * v) }},
		"exposition by name":    {meta: meta("/metrics", "prometheus", `{__name__="jobs_total"}`), read: func(v int64) float64 { return float64(10 * v) }},
		"exposition of untyped": {meta: meta("/metrics", "prometheus", "untyped_thing"), read: func(int64) float64 { return 1.5 }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := build(t, "metrics-api", tc.meta, nil, Deps{})
			var steps []step
			for _, v := range []int64{3, 0, 1200} {
				steps = append(steps, step{name: fmt.Sprintf("value %d", v), change: func() { e.value.Store(v) }, want: tc.read(v)})
			}
			runSteps(t, s, steps)
		})
	}
}

func TestMetricsAPIActivation(t *testing.T) {
	e := newMetricsEndpoint(t, nil)
	meta := map[string]string{"url": e.srv.URL + "/stats", "valueLocation": "components.worker.tasks", "targetValue": "5", "activationTargetValue": "4"}
	s, m := build(t, "metrics-api", meta, nil, Deps{}), parse(t, "metrics-api", meta, nil)
	activeAfter(t, s, m, step{"at the activation value", func() { e.value.Store(4) }, 4}, false)
	activeAfter(t, s, m, step{"above it", func() { e.value.Store(5) }, 5}, true)
}

func TestMetricsAPIErrors(t *testing.T) {
	e := newMetricsEndpoint(t, nil)
	e.value.Store(4)
	meta := func(path, format, loc string, kv ...string) map[string]string {
		m := map[string]string{"url": e.srv.URL + path, "format": format, "valueLocation": loc, "targetValue": "5"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := map[string]struct {
		meta map[string]string
		err  string // the end of Read's error
	}{
		"nothing at the path":    {meta: meta("/stats", "json", "components.worker.nope"), err: `valueLocation "components.worker.nope": nothing found`},
		"an object":              {meta: meta("/stats", "json", "components.worker"), err: `valueLocation "components.worker": found an object, want a number`},
		"a boolean":              {meta: meta("/stats", "json", "flag"), err: `valueLocation "flag": found a boolean, want a number`},
		"a plain string":         {meta: meta("/stats", "json", "name"), err: `valueLocation "name": "x" is neither a number nor a quantity`},
		"html":                   {meta: meta("/html", "json", "a.b"), err: `valueLocation "a.b": response is not JSON: "<html>maintenance</html>"`},
		"a status other than OK": {meta: meta("/down", "json", "a"), err: `/down: 503 Service Unavailable: "backend unavailable\n"`},
		"a missing metric":       {meta: meta("/metrics", "prometheus", "no_such"), err: `valueLocation "no_such": no metric no_such in the exposition`},
		"two series match":       {meta: meta("/metrics", "prometheus", `queue_depth{zone="a"}`), err: `valueLocation "queue_depth{zone=\"a\"}": 2 series match, want 1`},
		"no series match":        {meta: meta("/metrics", "prometheus", `queue_depth{zone="b"}`), err: "0 series match, want 1"},
		"a histogram":            {meta: meta("/metrics", "prometheus", "latency_seconds"), err: "latency_seconds is a histogram; only counters, gauges and untyped metrics are read"},
		"NaN":                    {meta: meta("/metrics", "prometheus", "broken"), err: `valueLocation "broken": value is NaN`},
		"JSON as exposition":     {meta: meta("/stats", "prometheus", "x"), err: `valueLocation "x": parse exposition: text format parsing error in line 1`},
		"slower than timeout":    {meta: meta("/stats", "json", "a", "timeout", "50"), err: "context deadline exceeded"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.meta["timeout"] != "" {
				e.delay.Store(int64(time.Second))
				defer e.delay.Store(0)
			}
			s := build(t, "metrics-api", tc.meta, nil, Deps{})
			got, err := readOnce(t, s)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Read = %v, %v; want an error with %q", got, err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "metrics-api: GET "+e.srv.URL) {
				t.Errorf("error %q does not name the request", err)
			}
		})
	}
	t.Run("server stopped", func(t *testing.T) {
		s := build(t, "metrics-api", meta("/stats", "json", "components.worker.tasks"), nil, Deps{})
		runSteps(t, s, []step{{name: "before", change: func() {}, want: 4}})
		e.srv.Close()
		wantReadErr(t, s, "metrics-api: GET "+e.srv.URL+"/stats", "connection refused")
	})
}

func TestMetricsAPIAuthentication(t *testing.T) {
	pki := newTestPKI(t)
	plain := newMetricsEndpoint(t, nil)
	mtls := newMetricsEndpoint(t, pki.serverTLS(t))
	tests := map[string]struct {
		e          *metricsEndpoint
		meta, auth map[string]string
		want       string // the credential the server saw
		err        string
	}{
		"api key in the default header": {
			meta: map[string]string{"authMode": "apiKey"}, auth: map[string]string{"apiKey": "k1"},
			want: "X-Api-Key=k1",
		},
		"api key in a named header": {
			meta: map[string]string{"authMode": "apiKey", "keyParamName": "X-Token"}, auth: map[string]string{"apiKey": "k1"},
			want: "X-Token=k1",
		},
		"api key in the default query parameter": {
			meta: map[string]string{"authMode": "apiKey", "method": "query"}, auth: map[string]string{"apiKey": "k1"},
			want: "?api_key=k1",
		},
		"api key in a named query parameter, settings in the TriggerAuthentication": {
			auth: map[string]string{"authMode": "apiKey", "method": "query", "keyParamName": "key", "apiKey": "k1"},
			want: "?key=k1",
		},
		"basic": {
			meta: map[string]string{"authMode": "basic"}, auth: map[string]string{"username": "ebb", "password": "pw"},
			want: "Authorization=Basic ZWJiOnB3",
		},
		"basic without a password": {
			meta: map[string]string{"authMode": "basic"}, auth: map[string]string{"username": "key-as-user"},
			want: "Authorization=Basic a2V5LWFzLXVzZXI6",
		},
		"bearer token": {
			meta: map[string]string{"authMode": "bearer"}, auth: map[string]string{"token": "t0k"},
			want: "Authorization=Bearer t0k",
		},
		"tls client certificate with bearer": {
			e:    mtls,
			meta: map[string]string{"authMode": "tls,bearer"},
			auth: map[string]string{"ca": string(pki.CA), "cert": string(pki.ClientCert), "key": string(pki.ClientKey), "token": "t0k"},
			want: "Authorization=Bearer t0k cert=ebb-poller",
		},
		"no mode sends nothing": {
			auth: map[string]string{"apiKey": "k1", "token": "t0k"},
			want: "",
		},
		"tls server without the client certificate": {
			e: mtls, auth: map[string]string{"ca": string(pki.CA)},
			err: "remote error: tls: certificate required",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := tc.e
			if e == nil {
				e = plain
			}
			e.value.Store(6)
			meta := map[string]string{"url": e.srv.URL + "/stats", "valueLocation": "components.worker.tasks", "targetValue": "5"}
			for k, v := range tc.meta {
				meta[k] = v
			}
			s := build(t, "metrics-api", meta, tc.auth, Deps{})
			got, err := readOnce(t, s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Read = %v, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != 6 {
				t.Fatalf("Read = %v, %v; want 6", got, err)
			}
			if seen := e.lastAuth.Load(); seen != tc.want {
				t.Errorf("server saw %q, want %q", seen, tc.want)
			}
		})
	}
}

// TestMetricsAPIErrorsHideTheKey checks a failing request's error does not quote an API key
// sent in the query string.
func TestMetricsAPIErrorsHideTheKey(t *testing.T) {
	e := newMetricsEndpoint(t, nil)
	meta := map[string]string{"url": e.srv.URL + "/stats?x=1", "valueLocation": "v", "targetValue": "5", "authMode": "apiKey", "method": "query"}
	s := build(t, "metrics-api", meta, map[string]string{"apiKey": "s3cret"}, Deps{})
	e.srv.Close()
	wantReadErr(t, s, "metrics-api: GET "+e.srv.URL+"/stats: ")
	if _, err := readOnce(t, s); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v quotes the API key", err)
	}
}

func BenchmarkMetricsAPIRead(b *testing.B) {
	e := newMetricsEndpoint(b, nil)
	e.value.Store(42)
	for name, meta := range map[string]map[string]string{
		"json":       {"url": e.srv.URL + "/stats", "valueLocation": "components.worker.tasks"},
		"prometheus": {"url": e.srv.URL + "/metrics", "format": "prometheus", "valueLocation": `queue_depth{queue="orders"}`},
	} {
		b.Run(name, func(b *testing.B) {
			meta["targetValue"] = "1"
			benchmarkRead(b, build(b, "metrics-api", meta, nil, Deps{}), 42)
		})
	}
}
