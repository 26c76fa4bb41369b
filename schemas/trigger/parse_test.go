package trigger

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// parseCase is one row of a scaler's metadata table: either the parsed result or the exact errors.
type parseCase struct {
	p    Params
	want Metadata
	errs []string
}

var triggerPath = field.NewPath("spec", "triggers").Index(0)

// md builds a metadata map from key, value pairs.
func md(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func runParse(t *testing.T, kind string, tests map[string]parseCase) {
	t.Helper()
	r := Builtin()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, errs := r.Parse(kind, tc.p, triggerPath)
			if diff := cmp.Diff(tc.errs, errorStrings(errs)); diff != "" {
				t.Errorf("Parse errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, quantityEqual); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

var quantityEqual = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// probe exercises every tag option and type without depending on a real scaler's rules.
type probe struct {
	Name     string            `trigger:"name,alias=oldName"`
	Secret   string            `trigger:"secret,secret,optional,from=meta|env|auth"`
	AuthOnly string            `trigger:"authOnly,optional,from=auth|meta"`
	Mode     string            `trigger:"mode,default=a,enum=a|b"`
	Count    int32             `trigger:"count,default=3,target"`
	Ratio    float64           `trigger:"ratio,optional,activation"`
	Flag     bool              `trigger:"flag,default=true"`
	List     []string          `trigger:"list,optional"`
	Pairs    map[string]string `trigger:"pairs,optional"`
	Parts    Partitions        `trigger:"parts,optional"`
	Size     resource.Quantity `trigger:"size,optional"`
	Untagged string
}

func (probe) MetricDetail() string { return "" }

func TestParseProbe(t *testing.T) {
	r := NewRegistry()
	if err := Register[probe](r, "probe"); err != nil {
		t.Fatal(err)
	}
	tests := map[string]parseCase{
		"defaults fill absent parameters": {
			p:    Params{Metadata: md("name", "x")},
			want: probe{Name: "x", Mode: "a", Count: 3, Flag: true},
		},
		"every type converts": {
			p: Params{Metadata: md("name", "x", "mode", "b", "count", " 7 ", "ratio", "0.5", "flag", "false",
				"list", "a, b,,c", "pairs", "k=v, k2 = v2", "parts", "1,3-5", "size", "500m")},
			want: probe{Name: "x", Mode: "b", Count: 7, Ratio: 0.5, List: []string{"a", "b", "c"},
				Pairs: map[string]string{"k": "v", "k2": "v2"}, Parts: Partitions{1, 3, 4, 5}, Size: resource.MustParse("500m")},
		},
		"alias is accepted": {
			p:    Params{Metadata: md("oldName", "x")},
			want: probe{Name: "x", Mode: "a", Count: 3, Flag: true},
		},
		"metadata wins over env and auth in meta-first order": {
			p: Params{Metadata: md("name", "x", "secret", "m", "secretFromEnv", "S"), Env: md("S", "e"),
				Auth: md("secret", "a")},
			want: probe{Name: "x", Secret: "m", Mode: "a", Count: 3, Flag: true},
		},
		"env comes before auth": {
			p:    Params{Metadata: md("name", "x", "secretFromEnv", "S"), Env: md("S", "e"), Auth: md("secret", "a")},
			want: probe{Name: "x", Secret: "e", Mode: "a", Count: 3, Flag: true},
		},
		"auth-first parameter prefers the TriggerAuthentication": {
			p:    Params{Metadata: md("name", "x", "authOnly", "m"), Auth: md("authOnly", "a")},
			want: probe{Name: "x", AuthOnly: "a", Mode: "a", Count: 3, Flag: true},
		},
		"empty values count as absent": {
			p:    Params{Metadata: md("name", "x", "count", ""), Auth: md("secret", "")},
			want: probe{Name: "x", Mode: "a", Count: 3, Flag: true},
		},
		"missing required parameter": {
			p:    Params{Metadata: md()},
			errs: []string{"spec.triggers[0].metadata.name: Required value"},
		},
		"FromEnv naming an unset variable": {
			p:    Params{Metadata: md("name", "x", "secretFromEnv", "NOPE"), Env: md("OTHER", "v")},
			errs: []string{`spec.triggers[0].metadata.secretFromEnv: Invalid value: "NOPE": names an environment variable the target container does not set`},
		},
		"every conversion error at once": {
			p: Params{Metadata: md("name", "x", "mode", "c", "count", "1.5", "ratio", "lots", "flag", "yes please",
				"pairs", "novalue", "parts", "3-1", "size", "big")},
			errs: []string{
				`spec.triggers[0].metadata.mode: Unsupported value: "c": supported values: "a", "b"`,
				`spec.triggers[0].metadata.count: Invalid value: "1.5": must be an integer`,
				`spec.triggers[0].metadata.ratio: Invalid value: "lots": must be a number`,
				`spec.triggers[0].metadata.flag: Invalid value: "yes please": must be true or false`,
				`spec.triggers[0].metadata.pairs: Invalid value: "novalue": must be key=value pairs separated by commas`,
				`spec.triggers[0].metadata.parts: Invalid value: "3-1": must be partition ids or ranges such as 1,2,10-20`,
				`spec.triggers[0].metadata.size: Invalid value: "big": must be a quantity such as 500m or 1Gi`,
			},
		},
		"target must be positive": {
			p:    Params{Metadata: md("name", "x", "count", "0")},
			errs: []string{`spec.triggers[0].metadata.count: Invalid value: "0": must be greater than 0`},
		},
		"NaN is not a number": {
			p:    Params{Metadata: md("name", "x", "ratio", "NaN")},
			errs: []string{`spec.triggers[0].metadata.ratio: Invalid value: "NaN": must be a number`},
		},
		"metadata-only parameters ignore auth": {
			p:    Params{Metadata: md("name", "x"), Auth: md("authOnly", "a", "count", "x")},
			want: probe{Name: "x", AuthOnly: "a", Mode: "a", Count: 3, Flag: true},
		},
		"unresolved env and auth count as set, unchecked": {
			p:    Params{Metadata: md("name", "x", "secretFromEnv", "S"), Auth: md("authOnly", ""), Unresolved: true},
			want: probe{Name: "x", Mode: "a", Count: 3, Flag: true},
		},
		"unresolved with unreadable authentication trusts auth parameters": {
			p:    Params{Metadata: md("name", "x"), Unresolved: true},
			want: probe{Name: "x", Mode: "a", Count: 3, Flag: true},
		},
		"Utilization is only for resource metrics": {
			p:    Params{Metadata: md("name", "x"), MetricType: autoscalingv2.UtilizationMetricType},
			errs: []string{`spec.triggers[0].metricType: Unsupported value: "Utilization": supported values: "AverageValue", "Value"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, errs := r.Parse("probe", tc.p, triggerPath)
			if diff := cmp.Diff(tc.errs, errorStrings(errs)); diff != "" {
				t.Errorf("Parse errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, quantityEqual); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// secretProbe has a secret that may come from auth and must never be printed.
type secretProbe struct {
	Host  string `trigger:"host,secret,from=auth|meta"`
	Count int64  `trigger:"count,secret,optional,from=auth"`
}

func (secretProbe) MetricDetail() string { return "" }

func TestParseNeverPrintsSecrets(t *testing.T) {
	r := NewRegistry()
	if err := Register[secretProbe](r, "secret"); err != nil {
		t.Fatal(err)
	}
	_, errs := r.Parse("secret", Params{Metadata: md(), Auth: md("count", "hunter2")}, triggerPath)
	want := []string{
		"spec.triggers[0].metadata.host: Required value: set TriggerAuthentication parameter host or host",
		"spec.triggers[0].authenticationRef[count]: Invalid value: must be an integer",
	}
	if diff := cmp.Diff(want, errorStrings(errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	for _, e := range errorStrings(errs) {
		if strings.Contains(e, "hunter2") {
			t.Errorf("error prints the secret: %s", e)
		}
	}
}

type badDefault struct {
	N int64 `trigger:"n,default=ten"`
}

func (badDefault) MetricDetail() string { return "" }

type badOption struct {
	N int64 `trigger:"n,mandatory"`
}

func (badOption) MetricDetail() string { return "" }

type badType struct {
	N []int `trigger:"n"`
}

func (badType) MetricDetail() string { return "" }

type twoTargets struct {
	A int64 `trigger:"a,target"`
	B int64 `trigger:"b,target"`
}

func (twoTargets) MetricDetail() string { return "" }

type stringTarget struct {
	A string `trigger:"a,target"`
}

func (stringTarget) MetricDetail() string { return "" }

type defaultOutsideEnum struct {
	A string `trigger:"a,default=c,enum=a|b"`
}

func (defaultOutsideEnum) MetricDetail() string { return "" }

type badSource struct {
	A string `trigger:"a,from=meta|vault"`
}

func (badSource) MetricDetail() string { return "" }

func TestRegisterRejectsBadTags(t *testing.T) {
	tests := map[string]struct {
		register func(*Registry) error
		want     string
	}{
		"default does not convert": {func(r *Registry) error { return Register[badDefault](r, "k") },
			`register k: badDefault.N: default "ten": must be an integer`},
		"unknown option": {func(r *Registry) error { return Register[badOption](r, "k") },
			`register k: badOption.N: unknown tag option "mandatory"`},
		"unsupported type": {func(r *Registry) error { return Register[badType](r, "k") },
			`register k: badType.N: unsupported field type []int`},
		"two targets": {func(r *Registry) error { return Register[twoTargets](r, "k") },
			`register k: twoTargets: at most one target and one activation field`},
		"string target": {func(r *Registry) error { return Register[stringTarget](r, "k") },
			`register k: stringTarget.A: target and activation fields must be numbers`},
		"default outside enum": {func(r *Registry) error { return Register[defaultOutsideEnum](r, "k") },
			`register k: defaultOutsideEnum.A: default "c" is not in enum`},
		"unknown source": {func(r *Registry) error { return Register[badSource](r, "k") },
			`register k: badSource.A: unknown source "vault"`},
		"kind twice": {func(r *Registry) error {
			if err := Register[probe](r, "k"); err != nil {
				return err
			}
			return Register[probe](r, "k")
		}, `trigger kind "k" registered twice`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.register(NewRegistry())
			if err == nil || err.Error() != tc.want {
				t.Errorf("Register error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBuiltin(t *testing.T) {
	want := []string{"aws-sqs-queue", "azure-queue", "cpu", "cron", "kafka", "memory", "metrics-api", "mysql",
		"nats-jetstream", "postgresql", "prometheus", "rabbitmq", "redis", "redis-streams"}
	if diff := cmp.Diff(want, Builtin().Kinds()); diff != "" {
		t.Errorf("Kinds (-want +got):\n%s", diff)
	}
	_, errs := Builtin().Parse("sqs", Params{}, triggerPath)
	wantErr := []string{`spec.triggers[0].type: Unsupported value: "sqs": supported values: "` + strings.Join(want, `", "`) + `"`}
	if diff := cmp.Diff(wantErr, errorStrings(errs)); diff != "" {
		t.Errorf("unknown kind (-want +got):\n%s", diff)
	}
}
