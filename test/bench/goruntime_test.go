package bench

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGoRuntime(t *testing.T) {
	exposition := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 10042
go_memstats_heap_inuse_bytes 1.2582912e+08
go_memstats_next_gc_bytes 1.6777216e+08
go_memstats_stack_inuse_bytes 8.4e+07
ebb_poller_triggers_owned{group="all"} 10000
`
	got, err := parseGoRuntime(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	want := goRuntime{Goroutines: 10042, HeapInuse: 125829120, StackInuse: 84e6, NextGC: 167772160}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseGoRuntime (-want +got):\n%s", diff)
	}
	if _, err := parseGoRuntime(strings.NewReader("go_goroutines 3\n")); err == nil {
		t.Error("an exposition without the memory series parsed without error")
	}
}

func TestFlagValue(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"separate value":        {args: []string{"poller", "-metrics-bind-address", "127.0.0.1:9"}, want: "127.0.0.1:9"},
		"with an equals sign":   {args: []string{"poller", "-metrics-bind-address=:8080"}, want: ":8080"},
		"double dash":           {args: []string{"poller", "--metrics-bind-address=127.0.0.1:7"}, want: "127.0.0.1:7"},
		"the last one wins":     {args: []string{"poller", "-metrics-bind-address=:8080", "-metrics-bind-address", "127.0.0.1:9"}, want: "127.0.0.1:9"},
		"absent":                {args: []string{"poller", "-health-probe-bind-address", "127.0.0.1:8"}},
		"a name with no value":  {args: []string{"poller", "-metrics-bind-address"}},
		"another flag's prefix": {args: []string{"poller", "-metrics-bind-address-extra=x"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := flagValue(tc.args, "metrics-bind-address"); got != tc.want {
				t.Errorf("flagValue = %q, want %q", got, tc.want)
			}
		})
	}
}
