package scaler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// httpClient is a pooled HTTP client; closing it drops its idle connections.
type httpClient struct{ *http.Client }

func (c httpClient) Close() error {
	c.CloseIdleConnections()
	return nil
}

// acquireHTTP returns the pool's HTTP client for the TLS settings s. Requests are bounded by
// their context, not by a client timeout, so one client serves triggers with any deadline.
func acquireHTTP(p *Pool, s tlsSettings) (*http.Client, func() error, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, nil, err
	}
	c, release, err := Acquire(p, Key("http", s.parts()...), func() (httpClient, error) {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg
		t.MaxIdleConnsPerHost = 16 // many triggers poll the same management endpoint
		return httpClient{&http.Client{Transport: t}}, nil
	})
	return c.Client, release, err
}

// getJSON decodes the JSON body of a GET of url into out; a status other than 200 is an error
// quoting the start of the body. user and password, when set, go in a basic auth header.
func getJSON(ctx context.Context, c *http.Client, url, user, password string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return fmt.Errorf("%s: %q", resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}
