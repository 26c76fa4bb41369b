package scaler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"
	"k8s.io/apimachinery/pkg/api/resource"

	"ebb.dev/schemas/trigger"
)

// metricsAPI GETs a URL and reads one number from the response: at a GJSON path of a JSON
// document (a number, or a string holding a quantity such as "10Mi", as KEDA accepts), or the
// one series a selector picks from a Prometheus text exposition.
type metricsAPI struct {
	src      *httpSource
	url      *url.URL
	location string
	value    func(body []byte) (float64, error)
}

func newMetricsAPI(m trigger.MetricsAPI, d Deps) (Scaler, error) {
	u, err := url.Parse(m.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	s := &metricsAPI{url: u, location: m.ValueLocation}
	switch m.Format {
	case trigger.FormatPrometheus:
		sel, err := trigger.ParseMetricSelector(m.ValueLocation)
		if err != nil {
			return nil, fmt.Errorf("valueLocation: %w", err)
		}
		s.value = func(body []byte) (float64, error) { return exposedValue(body, sel) }
	default:
		s.value = func(body []byte) (float64, error) { return jsonValue(body, m.ValueLocation) }
	}
	if s.src, err = newHTTPSource(d.Pool, m.HTTPAuth, m.UnsafeSSL, m.TimeoutMS, nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *metricsAPI) Read(ctx context.Context) (float64, error) {
	body, err := s.src.get(ctx, s.url)
	if err != nil {
		return 0, fmt.Errorf("metrics-api: %w", err)
	}
	v, err := s.value(body)
	if err != nil {
		return 0, fmt.Errorf("metrics-api: GET %s: valueLocation %q: %w", safeURL(s.url), s.location, err)
	}
	return v, nil
}

func (s *metricsAPI) Close() error { return s.src.Close() }

// jsonValue reads the number at the GJSON path loc.
func jsonValue(body []byte, loc string) (float64, error) {
	r := gjson.GetBytes(body, loc)
	switch r.Type {
	case gjson.Number:
		return r.Num, nil
	case gjson.String:
		q, err := resource.ParseQuantity(r.Str)
		if err != nil {
			return 0, fmt.Errorf("%q is neither a number nor a quantity", r.Str)
		}
		return q.AsApproximateFloat64(), nil
	case gjson.Null:
		if !r.Exists() && !gjson.ValidBytes(body) {
			return 0, fmt.Errorf("response is not JSON: %q", body[:min(len(body), 64)])
		}
		if !r.Exists() {
			return 0, errors.New("nothing found")
		}
	}
	return 0, fmt.Errorf("found %s, want a number", typeName(r))
}

func typeName(r gjson.Result) string {
	switch {
	case r.IsArray():
		return "an array"
	case r.IsObject():
		return "an object"
	case r.IsBool():
		return "a boolean"
	}
	return "null"
}

// exposedValue reads the one series sel matches in a Prometheus text exposition: a counter,
// gauge or untyped metric carrying every label of sel with its value.
func exposedValue(body []byte, sel trigger.MetricSelector) (float64, error) {
	// The parser wants \n line ends, the last line included; not every exporter writes them.
	if bytes.IndexByte(body, '\r') >= 0 {
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body[:len(body):len(body)], '\n')
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("parse exposition: %w", err)
	}
	family, ok := families[sel.Name]
	if !ok {
		return 0, fmt.Errorf("no metric %s in the exposition", sel.Name)
	}
	var values []float64
	for _, m := range family.GetMetric() {
		if !hasLabels(m.GetLabel(), sel.Labels) {
			continue
		}
		switch {
		case m.Gauge != nil:
			values = append(values, m.Gauge.GetValue())
		case m.Counter != nil:
			values = append(values, m.Counter.GetValue())
		case m.Untyped != nil:
			values = append(values, m.Untyped.GetValue())
		default:
			return 0, fmt.Errorf("%s is a %s; only counters, gauges and untyped metrics are read",
				sel.Name, strings.ToLower(family.GetType().String()))
		}
	}
	if len(values) != 1 {
		return 0, fmt.Errorf("%d series match, want 1", len(values))
	}
	if math.IsNaN(values[0]) || math.IsInf(values[0], 0) {
		return 0, fmt.Errorf("value is %v", values[0])
	}
	return values[0], nil
}

// hasLabels reports whether the series labels include every one of want.
func hasLabels(labels []*dto.LabelPair, want []trigger.Label) bool {
	for _, w := range want {
		found := false
		for _, l := range labels {
			if l.GetName() == w.Name && l.GetValue() == w.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
