package scaler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"ebb.dev/schemas/trigger"
)

// maxBody bounds what an HTTP scaler reads of a response: a metrics document, not a download.
const maxBody = 8 << 20

// httpSource is what the HTTP scalers (prometheus, metrics-api) share: a pooled client with the
// trigger's TLS settings, and the trigger's headers and credentials added to every request.
type httpSource struct {
	client  *http.Client
	release func() error
	auth    trigger.HTTPAuth
	headers map[string]string
	timeout time.Duration
}

// newHTTPSource acquires the pool's client for the trigger's TLS settings: its CA whatever the
// auth modes, its client certificate only under authModes tls, as KEDA does.
func newHTTPSource(p *Pool, auth trigger.HTTPAuth, unsafeSSL bool, timeoutMS int64, headers map[string]string) (*httpSource, error) {
	s := tlsSettings{CA: auth.CA, UnsafeSSL: unsafeSSL}
	if auth.Has(trigger.AuthTLS) {
		s.Cert, s.Key = auth.Cert, auth.Key
	}
	client, release, err := acquireHTTP(p, s)
	if err != nil {
		return nil, err
	}
	return &httpSource{client: client, release: release, auth: auth, headers: headers,
		timeout: time.Duration(timeoutMS) * time.Millisecond}, nil
}

// get returns the body of a 200 response to a GET of u. Errors name u without its query,
// which may hold an API key, and quote the start of any other response.
func (h *httpSource) get(ctx context.Context, u *url.URL) ([]byte, error) {
	ctx, cancel := withTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", safeURL(u), err)
	}
	h.authorize(req)
	resp, err := h.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, query and all
		}
		return nil, fmt.Errorf("GET %s: %w", safeURL(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("GET %s: read body: %w", safeURL(u), err)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s: %q", safeURL(u), resp.Status, body[:min(len(body), 256)])
	case len(body) > maxBody:
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", safeURL(u), maxBody)
	}
	return body, nil
}

// authorize adds the custom headers, then the credentials of each auth mode.
func (h *httpSource) authorize(req *http.Request) {
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	a := h.auth
	switch {
	case a.Has(trigger.AuthBasic):
		req.SetBasicAuth(a.Username, a.Password)
	case a.Has(trigger.AuthBearer):
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	}
	if a.Has(trigger.AuthCustom) {
		req.Header.Set(a.CustomAuthHeader, a.CustomAuthValue)
	}
	if !a.Has(trigger.AuthAPIKey) {
		return
	}
	if a.Method == "query" {
		name := a.KeyParamName
		if name == "" {
			name = "api_key"
		}
		q := req.URL.Query()
		q.Set(name, a.APIKey)
		req.URL.RawQuery = q.Encode()
		return
	}
	name := a.KeyParamName
	if name == "" {
		name = "X-API-KEY"
	}
	req.Header.Set(name, a.APIKey)
}

func (h *httpSource) Close() error { return h.release() }

// safeURL is u without user info or query, for errors and logs.
func safeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
