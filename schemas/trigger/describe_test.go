package trigger_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ebb.dev/schemas/trigger"
)

func TestDescribe(t *testing.T) {
	reg := trigger.Builtin()
	tests := map[string]struct {
		kind       string
		param      string
		want       trigger.Param
		metricKind string
	}{
		"a secret from metadata, auth or env": {
			kind: "rabbitmq", param: "host", metricKind: "rabbitmq",
			want: trigger.Param{Name: "host", Secret: true, From: []string{"meta", "auth", "env"}},
		},
		"a target with an alias and a default": {
			kind: "rabbitmq", param: "value", metricKind: "rabbitmq",
			want: trigger.Param{Name: "value", Aliases: []string{"queueLength"}, Default: "20", HasDefault: true, Target: true, From: []string{"meta"}},
		},
		"an activation threshold": {
			kind: "kafka", param: "activationLagThreshold", metricKind: "kafka",
			want: trigger.Param{Name: "activationLagThreshold", Default: "0", HasDefault: true, Activation: true, From: []string{"meta"}},
		},
		"an enum on an embedded struct, under KEDA's metric name": {
			kind: "metrics-api", param: "method", metricKind: "metric-api",
			want: trigger.Param{Name: "method", Default: "header", HasDefault: true, Enum: []string{"header", "query"}, From: []string{"meta", "auth"}},
		},
		"a resource metric has no metric kind": {
			kind: "cpu", param: "containerName",
			want: trigger.Param{Name: "containerName", Optional: true, From: []string{"meta"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, ok := reg.Describe(tc.kind)
			if !ok {
				t.Fatalf("Describe(%q) found nothing", tc.kind)
			}
			if d.Kind != tc.kind || d.MetricKind != tc.metricKind {
				t.Errorf("kind %q, metric kind %q; want %q, %q", d.Kind, d.MetricKind, tc.kind, tc.metricKind)
			}
			for _, p := range d.Params {
				if p.Name == tc.param {
					if diff := cmp.Diff(tc.want, p, cmpopts.IgnoreFields(trigger.Param{}, "Index"), cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("param %s (-want +got):\n%s", tc.param, diff)
					}
					if f := d.Type.FieldByIndex(p.Index); f.Tag.Get("trigger") == "" {
						t.Errorf("param %s: index %v is field %s without a trigger tag", tc.param, p.Index, f.Name)
					}
					return
				}
			}
			t.Errorf("no parameter %s in %+v", tc.param, d.Params)
		})
	}
	if _, ok := reg.Describe("nonsense"); ok {
		t.Error("Describe(nonsense) found a kind")
	}
}
