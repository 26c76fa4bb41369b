package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMetricSelector(t *testing.T) {
	tests := map[string]struct {
		in   string
		want MetricSelector
		err  string
	}{
		"bare name":                {in: "queue_depth", want: MetricSelector{Name: "queue_depth"}},
		"recording rule name":      {in: " job:requests:rate5m ", want: MetricSelector{Name: "job:requests:rate5m"}},
		"labels in written order":  {in: `q{b="2", a='1',}`, want: MetricSelector{Name: "q", Labels: []Label{{"b", "2"}, {"a", "1"}}}},
		"name as a label":          {in: `{__name__="up",job="api"}`, want: MetricSelector{Name: "up", Labels: []Label{{"job", "api"}}}},
		"escapes":                  {in: `m{path="a\"b\\c\n"}`, want: MetricSelector{Name: "m", Labels: []Label{{"path", "a\"b\\c\n"}}}},
		"empty braces":             {in: "m{}", want: MetricSelector{Name: "m"}},
		"empty":                    {in: "", err: `must be a metric name such as queue_depth or queue_depth{queue="orders"}`},
		"name starting with digit": {in: "1m", err: `unexpected "1m" after the metric name`},
		"no name":                  {in: `{job="api"}`, err: "names no metric: put the name before { or set __name__"},
		"negative matcher":         {in: `m{a!="1"}`, err: "label a: only = matchers are supported"},
		"unquoted value":           {in: `m{a=1}`, err: "label a: value must be quoted"},
		"unterminated value":       {in: `m{a="1}`, err: "label a: unterminated quoted value"},
		"unknown escape":           {in: `m{a="\d"}`, err: `label a: unknown escape \d`},
		"missing brace":            {in: `m{a="1"`, err: `expected , or } at ""`},
		"text after brace":         {in: `m{a="1"} offset 5m`, err: `unexpected "offset 5m" after }`},
		"range selector":           {in: `m[5m]`, err: `unexpected "[5m]" after the metric name`},
		"label without equals":     {in: `m{a}`, err: "label a: expected ="},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMetricSelector(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseMetricSelector (-want +got):\n%s", diff)
			}
			again, err := ParseMetricSelector(got.String())
			if err != nil || !cmp.Equal(got, again) {
				t.Errorf("String() = %q does not parse back: %v, %v", got.String(), again, err)
			}
		})
	}
}
