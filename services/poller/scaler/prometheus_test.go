package scaler

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	promserver "ebb.dev/test/servers/prometheus"
)

// exposition serves a Prometheus text exposition of two queue_depth gauges whose values a
// test sets, for a real Prometheus to scrape.
type exposition struct {
	orders, payments atomic.Int64
	srv              *httptest.Server
}

func newExposition(t testing.TB) *exposition {
	e := &exposition{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE queue_depth gauge")
		fmt.Fprintf(w, "queue_depth{queue=\"orders\"} %d\n", e.orders.Load())
		fmt.Fprintf(w, "queue_depth{queue=\"payments\"} %d\n", e.payments.Load())
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *exposition) target() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// startPrometheus starts a real Prometheus scraping e every second and waits for its first scrape.
func startPrometheus(t testing.TB, e *exposition) *promserver.Server {
	t.Helper()
	s := promserver.StartT(t, promserver.Options{Targets: []string{e.target()}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitScraped(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return s
}

// readUntil reads s until it returns want (a scrape or two may pass before a source's change
// shows), failing after 20 s with the last reading.
func readUntil(t testing.TB, s Scaler, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := readOnce(t, s)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Read = %v, %v; want %v within 20 s", got, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantReadErr reads s once and checks it fails with an error containing each of parts.
func wantReadErr(t testing.TB, s Scaler, parts ...string) {
	t.Helper()
	err := readError(t, s)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("Read error %q does not contain %q", err, p)
		}
	}
}

func TestPrometheusReadsARealServer(t *testing.T) {
	e := newExposition(t)
	e.orders.Store(3)
	e.payments.Store(8)
	srv := startPrometheus(t, e)
	meta := func(query string, kv ...string) map[string]string {
		m := map[string]string{"serverAddress": srv.URL(), "query": query, "threshold": "5"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	orders := build(t, "prometheus", meta(`queue_depth{queue="orders"}`), nil, Deps{})

	t.Run("one series follows its value", func(t *testing.T) {
		readUntil(t, orders, 3)
		e.orders.Store(11)
		readUntil(t, orders, 11)
		e.orders.Store(0)
		readUntil(t, orders, 0)
	})
	t.Run("activation at the boundary", func(t *testing.T) {
		m := meta(`queue_depth{queue="orders"}`, "activationThreshold", "2.5")
		s := build(t, "prometheus", m, nil, Deps{})
		for _, v := range []struct {
			value  int64
			active bool
		}{{2, false}, {3, true}} {
			e.orders.Store(v.value)
			readUntil(t, s, float64(v.value))
			activeAfter(t, s, parse(t, "prometheus", m, nil), step{fmt.Sprint(v.value), func() {}, float64(v.value)}, v.active)
		}
		e.orders.Store(0)
	})
	e.orders.Store(0) // as the subtest left it: the payments series alone counts below
	tests := map[string]struct {
		meta map[string]string
		want float64
		err  []string // parts of the error, when Read must fail
	}{
		"a sum is one sample":        {meta: meta(`sum(queue_depth)`), want: 8},
		"a scalar result":            {meta: meta(`scalar(queue_depth{queue="payments"})`), want: 8},
		"query parameters are sent":  {meta: meta(`queue_depth{queue="payments"}`, "queryParameters", "timeout=5s"), want: 8},
		"empty result ignored":       {meta: meta(`no_such_metric`), want: 0},
		"NaN ignored":                {meta: meta(`vector(0) / 0`), want: 0},
		"+Inf ignored":               {meta: meta(`vector(1) / 0`), want: 0},
		"two series":                 {meta: meta(`queue_depth`), err: []string{`prometheus: query "queue_depth": returned 2 samples, want 1`}},
		"two series, nulls ignored":  {meta: meta(`queue_depth`, "ignoreNullValues", "true"), err: []string{"returned 2 samples, want 1"}},
		"empty result not ignored":   {meta: meta(`no_such_metric`, "ignoreNullValues", "false"), err: []string{"returned 0 samples, want 1 (ignoreNullValues is false)"}},
		"NaN not ignored":            {meta: meta(`vector(0) / 0`, "ignoreNullValues", "false"), err: []string{"returned NaN (ignoreNullValues is false)"}},
		"-Inf not ignored":           {meta: meta(`vector(-1) / 0`, "ignoreNullValues", "false"), err: []string{"returned -Inf (ignoreNullValues is false)"}},
		"a range vector":             {meta: meta(`queue_depth[1m]`), err: []string{"result is a matrix, want an instant vector or a scalar"}},
		"a query Prometheus rejects": {meta: meta(`sum(`), err: []string{"400 Bad Request", "parse error"}},
		"a wrong path prefix":        {meta: map[string]string{"serverAddress": srv.URL() + "/nope", "query": "up", "threshold": "1"}, err: []string{"/nope/api/v1/query: 404 Not Found"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := build(t, "prometheus", tc.meta, nil, Deps{})
			if tc.err != nil {
				wantReadErr(t, s, tc.err...)
				return
			}
			readUntil(t, s, tc.want)
		})
	}
	t.Run("server stopped", func(t *testing.T) {
		e.orders.Store(4)
		readUntil(t, orders, 4)
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		wantReadErr(t, orders, `prometheus: query "queue_depth{queue=\"orders\"}": GET `+srv.URL()+"/api/v1/query", "connection refused")
	})
}

// promRequest is what a fake query endpoint saw of one request.
type promRequest struct {
	Path  string
	Query url.Values
	Auth  string // the Authorization header
	Extra string // the X-Extra header
	Peer  string // the client certificate's common name
}

// fakePrometheus is a query endpoint that records requests and answers body; over TLS when
// tlsCfg is set.
func fakePrometheus(t testing.TB, tlsCfg *tls.Config, body string) (*httptest.Server, func() promRequest) {
	var mu sync.Mutex
	var last promRequest
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := promRequest{Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Extra: r.Header.Get("X-Extra")}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			got.Peer = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		mu.Lock()
		last = got
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes tests make fail on purpose
	if tlsCfg != nil {
		srv.TLS = tlsCfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, func() promRequest {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

const promOne = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"42.5"]}]}}`

// TestPrometheusRequests checks what the scaler sends (parameters, headers, credentials, client
// certificates), against a fake endpoint where a real Prometheus cannot take credentials.
func TestPrometheusRequests(t *testing.T) {
	pki := newTestPKI(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	anyServerTLS := pki.serverTLS(t)
	anyServerTLS.ClientAuth = tls.NoClientCert
	tests := map[string]struct {
		tls  *tls.Config // the server's; plain HTTP when nil
		meta map[string]string
		auth map[string]string
		want promRequest
		err  []string
	}{
		"query, time, namespace, parameters and headers": {
			meta: map[string]string{"query": `sum(up{job="a b"})`, "namespace": "team-a", "queryParameters": "dedup=false,partial_response=true",
				"customHeaders": "X-Extra=yes"},
			want: promRequest{Path: "/prom/api/v1/query", Extra: "yes", Query: url.Values{"query": {`sum(up{job="a b"})`}, "namespace": {"team-a"},
				"dedup": {"false"}, "partial_response": {"true"}, "time": {"2026-01-01T00:00:00Z"}}},
		},
		"basic credentials from the TriggerAuthentication": {
			meta: map[string]string{"authModes": "basic"},
			auth: map[string]string{"username": "ebb", "password": "s3cret"},
			want: promRequest{Path: "/prom/api/v1/query", Auth: "Basic ZWJiOnMzY3JldA==", Query: basicQuery},
		},
		"bearer token with the mode in the TriggerAuthentication": {
			auth: map[string]string{"authModes": "bearer", "bearerToken": "t0k"},
			want: promRequest{Path: "/prom/api/v1/query", Auth: "Bearer t0k", Query: basicQuery},
		},
		"custom header": {
			meta: map[string]string{"authModes": "custom"},
			auth: map[string]string{"customAuthHeader": "X-Extra", "customAuthValue": "tenant-1"},
			want: promRequest{Path: "/prom/api/v1/query", Extra: "tenant-1", Query: basicQuery},
		},
		"credentials without an auth mode are not sent": {
			auth: map[string]string{"username": "ebb", "password": "s3cret", "bearerToken": "t0k"},
			want: promRequest{Path: "/prom/api/v1/query", Query: basicQuery},
		},
		"tls client certificate and CA": {
			tls:  pki.serverTLS(t),
			meta: map[string]string{"authModes": "tls"},
			auth: map[string]string{"ca": string(pki.CA), "cert": string(pki.ClientCert), "key": string(pki.ClientKey)},
			want: promRequest{Path: "/prom/api/v1/query", Peer: "ebb-poller", Query: basicQuery},
		},
		"CA without an auth mode, as KEDA allows": {
			tls:  anyServerTLS,
			auth: map[string]string{"ca": string(pki.CA)},
			want: promRequest{Path: "/prom/api/v1/query", Query: basicQuery},
		},
		"server requires a certificate the trigger has not": {
			tls:  pki.serverTLS(t),
			auth: map[string]string{"ca": string(pki.CA)},
			err:  []string{"GET https://127.0.0.1:", "/prom/api/v1/query: remote error: tls: certificate required"},
		},
		"untrusted server": {
			tls: anyServerTLS,
			err: []string{"tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		},
		"untrusted server with unsafeSsl": {
			tls:  anyServerTLS,
			meta: map[string]string{"unsafeSsl": "true"},
			want: promRequest{Path: "/prom/api/v1/query", Query: basicQuery},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, last := fakePrometheus(t, tc.tls, promOne)
			meta := map[string]string{"serverAddress": srv.URL + "/prom/", "query": "up", "threshold": "1"}
			for k, v := range tc.meta {
				meta[k] = v
			}
			s := build(t, "prometheus", meta, tc.auth, Deps{Now: func() time.Time { return now.In(time.FixedZone("CET", 3600)) }})
			if tc.err != nil {
				wantReadErr(t, s, tc.err...)
				return
			}
			got, err := readOnce(t, s)
			if err != nil || got != 42.5 {
				t.Fatalf("Read = %v, %v; want 42.5", got, err)
			}
			if diff := cmp.Diff(tc.want, last()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

var basicQuery = url.Values{"query": {"up"}, "time": {"2026-01-01T00:00:00Z"}}

// TestPrometheusResponses checks how answers a real server rarely gives are read.
func TestPrometheusResponses(t *testing.T) {
	tests := map[string]struct {
		body string
		want float64
		err  string
	}{
		"vector sample":     {body: promOne, want: 42.5},
		"negative scalar":   {body: `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"-3"]}}`, want: -3},
		"error status":      {body: `{"status":"error","errorType":"execution","error":"query timed out"}`, err: `status "error": query timed out`},
		"not JSON":          {body: `<html>`, err: "decode response: invalid character '<' looking for beginning of value"},
		"string result":     {body: `{"status":"success","data":{"resultType":"string","result":[1767225600,"x"]}}`, err: "result is a string, want an instant vector or a scalar"},
		"value not numeric": {body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1767225600,"many"]}]}}`, err: `sample value "many" is not a number`},
		"value not string":  {body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1767225600,7]}]}}`, err: "sample value 7 is not a string"},
		"sample w/o value":  {body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[]}]}}`, err: "sample has no value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, _ := fakePrometheus(t, nil, tc.body)
			s := build(t, "prometheus", map[string]string{"serverAddress": srv.URL, "query": "up", "threshold": "1"}, nil, Deps{})
			got, err := readOnce(t, s)
			if tc.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.err) {
					t.Fatalf("Read = %v, %v; want error ending %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Read = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestPrometheusSharesClients checks triggers with the same TLS settings share one pooled
// HTTP client, and that it is closed with the last of them.
func TestPrometheusSharesClients(t *testing.T) {
	pool := NewPool()
	meta := map[string]string{"serverAddress": "http://prometheus:9090", "query": "up", "threshold": "1"}
	a, err := Builtin().Build("prometheus", parse(t, "prometheus", meta, nil), Deps{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Builtin().Build("prometheus", parse(t, "prometheus", meta, map[string]string{"authModes": "bearer", "bearerToken": "t"}), Deps{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	unsafe := map[string]string{"serverAddress": "https://prometheus:9090", "query": "up", "threshold": "1", "unsafeSsl": "true"}
	c, err := Builtin().Build("prometheus", parse(t, "prometheus", unsafe, nil), Deps{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if n := pool.Len(); n != 2 {
		t.Errorf("pool holds %d clients for two TLS settings, want 2", n)
	}
	for _, s := range []Scaler{a, b, c} {
		if err := s.(interface{ Close() error }).Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := pool.Len(); n != 0 {
		t.Errorf("pool holds %d clients after every scaler closed, want 0", n)
	}
}

func BenchmarkPrometheusRead(b *testing.B) {
	srv := promserver.StartT(b, promserver.Options{})
	benchmarkRead(b, build(b, "prometheus", map[string]string{"serverAddress": srv.URL(), "query": "vector(42)", "threshold": "1"}, nil, Deps{}), 42)
}
