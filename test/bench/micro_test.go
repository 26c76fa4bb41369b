package bench

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sampleBench is `go test -bench` output over two packages, one with custom metrics and a
// failure line among the results.
const sampleBench = `goos: linux
goarch: amd64
pkg: ebb.dev/schemas/trigger
cpu: AMD EPYC
BenchmarkParse-2    	   10000	     16136 ns/op	    1792 B/op	      36 allocs/op
PASS
ok  	ebb.dev/schemas/trigger	0.344s
goos: linux
pkg: ebb.dev/services/decider
BenchmarkReadingToDecision-2   	    2000	    610000 ns/op	         0.412 p50-ms	         6.100 p99-ms
BenchmarkDecisions/objects=10000-2         	   30000	     33000 ns/op	     30000 decisions/s	         1.2 start-s	         0.8 p50-ms	         3.9 p99-ms
--- FAIL: BenchmarkBroken
pkg: ebb.dev/services/metrics-api/provider
BenchmarkGetExternalMetric/metrics=10000-2 	  100000	      2100 ns/op	  1024 B/op	  12 allocs/op	   1900 p50-ns	   4800 p99-ns
FAIL	ebb.dev/services/decider	3.1s
`

func TestParseBench(t *testing.T) {
	got := ParseBench(sampleBench)
	want := []BenchResult{
		{Package: "ebb.dev/schemas/trigger", Name: "Parse", Iterations: 10000,
			Metrics: map[string]float64{"ns/op": 16136, "B/op": 1792, "allocs/op": 36}, Units: []string{"ns/op", "B/op", "allocs/op"}},
		{Package: "ebb.dev/services/decider", Name: "ReadingToDecision", Iterations: 2000,
			Metrics: map[string]float64{"ns/op": 610000, "p50-ms": 0.412, "p99-ms": 6.1}, Units: []string{"ns/op", "p50-ms", "p99-ms"}},
		{Package: "ebb.dev/services/decider", Name: "Decisions/objects=10000", Iterations: 30000,
			Metrics: map[string]float64{"ns/op": 33000, "decisions/s": 30000, "start-s": 1.2, "p50-ms": 0.8, "p99-ms": 3.9},
			Units:   []string{"ns/op", "decisions/s", "start-s", "p50-ms", "p99-ms"}},
		{Package: "ebb.dev/services/metrics-api/provider", Name: "GetExternalMetric/metrics=10000", Iterations: 100000,
			Metrics: map[string]float64{"ns/op": 2100, "B/op": 1024, "allocs/op": 12, "p50-ns": 1900, "p99-ns": 4800},
			Units:   []string{"ns/op", "B/op", "allocs/op", "p50-ns", "p99-ns"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseBench (-want +got):\n%s", diff)
	}
}

func TestMicroTargets(t *testing.T) {
	got := microTargets(ParseBench(sampleBench))
	want := []Target{
		{Name: targetsOfMicro[0].name, Want: "under 5.00 ms", Got: "6.10 ms", Met: false, Miss: "by 1.10 ms"},
		{Name: targetsOfMicro[1].name, Want: "under 1.00 ms", Got: "4.80 µs", Met: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("microTargets (-want +got):\n%s", diff)
	}
	if none := microTargets(nil); none[0].Met || none[0].Got != "not measured" {
		t.Errorf("a target whose benchmark did not run: %+v, want missed and not measured", none[0])
	}
}

func TestBenchTable(t *testing.T) {
	tbl := benchTable(ParseBench(sampleBench))
	want := []string{"services/decider", "ReadingToDecision", "610.00 µs", "–", "–", "p50 412.00 µs, p99 6.10 ms"}
	if diff := cmp.Diff(want, tbl.Rows[1]); diff != "" {
		t.Errorf("row of ReadingToDecision (-want +got):\n%s", diff)
	}
}
