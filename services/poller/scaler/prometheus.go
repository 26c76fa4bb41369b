package scaler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ebb.dev/schemas/trigger"
)

// prometheus runs an instant query (GET /api/v1/query) that must return one sample, as KEDA's
// prometheus scaler does: an empty result, NaN or ±Inf read 0 under ignoreNullValues and are
// errors otherwise; two or more samples are always an error.
type prometheus struct {
	src    *httpSource
	url    url.URL // the query endpoint with every parameter but time
	query  string
	ignore bool // ignoreNullValues
	now    func() time.Time
}

func newPrometheus(m trigger.Prometheus, d Deps) (Scaler, error) {
	u, err := url.Parse(strings.TrimSuffix(m.ServerAddress, "/") + "/api/v1/query")
	if err != nil {
		return nil, fmt.Errorf("serverAddress: %w", err)
	}
	q := url.Values{"query": {m.Query}}
	if m.Namespace != "" {
		q.Set("namespace", m.Namespace) // namespaced queries, as Thanos and others take them
	}
	for k, v := range m.QueryParameters {
		q.Add(k, v)
	}
	u.RawQuery = q.Encode()
	src, err := newHTTPSource(d.Pool, m.HTTPAuth, m.UnsafeSSL, m.TimeoutMS, m.CustomHeaders)
	if err != nil {
		return nil, err
	}
	return &prometheus{src: src, url: *u, query: m.Query, ignore: m.IgnoreNullValues, now: d.Now}, nil
}

// promResponse is the part of a query API response the scaler reads.
type promResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// promSample is a sample's [timestamp, "value"] pair.
type promSample [2]json.RawMessage

func (p *prometheus) Read(ctx context.Context) (float64, error) {
	v, err := p.read(ctx)
	if err != nil {
		return 0, fmt.Errorf("prometheus: query %q: %w", p.query, err)
	}
	return v, nil
}

func (p *prometheus) read(ctx context.Context) (float64, error) {
	u := p.url
	u.RawQuery += "&time=" + url.QueryEscape(p.now().UTC().Format(time.RFC3339))
	body, err := p.src.get(ctx, &u)
	if err != nil {
		return 0, err
	}
	var resp promResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, fmt.Errorf("decode response: %w", err)
	}
	if resp.Status != "success" {
		return 0, fmt.Errorf("status %q: %s", resp.Status, resp.Error)
	}
	samples, err := resp.samples()
	if err != nil {
		return 0, err
	}
	switch len(samples) {
	case 0:
		if p.ignore {
			return 0, nil
		}
		return 0, errors.New("returned 0 samples, want 1 (ignoreNullValues is false)")
	case 1:
	default:
		return 0, fmt.Errorf("returned %d samples, want 1", len(samples))
	}
	v, err := samples[0].value()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if p.ignore {
			return 0, nil
		}
		return 0, fmt.Errorf("returned %v (ignoreNullValues is false)", v)
	}
	return v, nil
}

// samples are the result's samples: those of an instant vector, or the one of a scalar.
func (r promResponse) samples() ([]promSample, error) {
	switch r.Data.ResultType {
	case "vector":
		var series []struct {
			Value promSample `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &series); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		out := make([]promSample, len(series))
		for i, s := range series {
			out[i] = s.Value
		}
		return out, nil
	case "scalar":
		var s promSample
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		return []promSample{s}, nil
	}
	return nil, fmt.Errorf("result is a %s, want an instant vector or a scalar", r.Data.ResultType)
}

// value parses the sample's value, a string such as "12.5", "NaN" or "+Inf".
func (s promSample) value() (float64, error) {
	var text string
	if s[1] == nil {
		return 0, errors.New("sample has no value")
	}
	if err := json.Unmarshal(s[1], &text); err != nil {
		return 0, fmt.Errorf("sample value %s is not a string", s[1])
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q is not a number", text)
	}
	return v, nil
}

func (p *prometheus) Close() error { return p.src.Close() }
