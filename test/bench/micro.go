package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// microPackages hold the Go benchmarks of ebb's hot paths, in the order a reading travels.
// The scalers' own benchmarks are left out: they read real servers, which is I/O, not a hot
// path of ebb's code.
var microPackages = []string{
	"ebb.dev/schemas/trigger",               // metadata parse, metric names and targets
	"ebb.dev/schemas/msg",                   // reading and decision encode/decode
	"ebb.dev/bus",                           // readings over the embedded bus
	"ebb.dev/services/poller",               // one poller replica scheduling 10,000 triggers
	"ebb.dev/services/decider/decide",       // a decision, pure
	"ebb.dev/services/decider/hpa",          // the HPA model the fast path steps with
	"ebb.dev/services/decider",              // reading→decision through the bus
	"ebb.dev/services/actuator/apply",       // a steady-state decision at the actuator
	"ebb.dev/services/metrics-api/provider", // GetExternalMetric
}

// Micro runs the Go benchmarks of the hot paths with `go test -bench` in the checkout and
// reports every result.
func Micro() Scenario {
	return Scenario{Name: "micro", Run: runMicro}
}

func runMicro(ctx context.Context, env Env) (Section, error) {
	sec := Section{
		Title: "Micro: Go benchmarks of the hot paths",
		Intro: "`go test -run '^$' -bench . -benchmem` over the packages holding the hot paths' benchmarks, in one process per package, on the same machine as the scenarios. Times are per operation; custom metrics (such as p99-ns) are the benchmarks' own.",
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1"}
	if env.Quick {
		args = append(args, "-benchtime", "100ms")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, microPackages...)...)
	cmd.Dir = env.Repo
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	runErr := cmd.Run()
	raw := filepath.Join(env.Dir, "go-test-bench.txt")
	if err := os.WriteFile(raw, out.Bytes(), 0o644); err != nil {
		return sec, err
	}
	results := ParseBench(out.String())
	sec.Tables = append(sec.Tables, benchTable(results))
	sec.Targets = microTargets(results)
	sec.Notes = append(sec.Notes, fmt.Sprintf("%d results from %d packages in %s; `go test` output in %s.",
		len(results), len(microPackages), time.Since(started).Round(time.Second), raw))
	if env.Quick {
		sec.Notes = append(sec.Notes, "Quick run: -benchtime 100ms, so fewer iterations per benchmark.")
	}
	if runErr != nil {
		return sec, fmt.Errorf("go test -bench: %w\n%s", runErr, lastLines(out.String(), 20))
	}
	return sec, nil
}

// BenchResult is one line of `go test -bench` output.
type BenchResult struct {
	Package    string
	Name       string // without the Benchmark prefix and the -GOMAXPROCS suffix
	Iterations int64
	// Metrics by unit: ns/op, B/op, allocs/op and any the benchmark reports itself.
	Metrics map[string]float64
	// Units in the order the line gave them.
	Units []string
}

// ParseBench reads the results out of `go test -bench` output over one or more packages.
func ParseBench(out string) []BenchResult {
	var results []BenchResult
	pkg := ""
	s := bufio.NewScanner(strings.NewReader(out))
	for s.Scan() {
		line := s.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if r, ok := parseBenchLine(line); ok {
			r.Package = pkg
			results = append(results, r)
		}
	}
	return results
}

// parseBenchLine parses "BenchmarkName-2  1000  123 ns/op  45 B/op ...".
func parseBenchLine(line string) (BenchResult, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return BenchResult{}, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return BenchResult{}, false
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	r := BenchResult{Name: name, Iterations: n, Metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return BenchResult{}, false
		}
		r.Metrics[f[i+1]] = v
		r.Units = append(r.Units, f[i+1])
	}
	return r, true
}

func benchTable(results []BenchResult) Table {
	t := Table{Columns: []string{"package", "benchmark", "time/op", "B/op", "allocs/op", "other"}}
	for _, r := range results {
		var other []string
		for _, u := range r.Units {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" {
				other = append(other, formatMetric(r.Metrics[u], u))
			}
		}
		t.Rows = append(t.Rows, []string{
			strings.TrimPrefix(r.Package, "ebb.dev/"), r.Name, nsString(r.Metrics["ns/op"]),
			metricOrDash(r, "B/op"), metricOrDash(r, "allocs/op"), strings.Join(other, ", "),
		})
	}
	return t
}

func metricOrDash(r BenchResult, unit string) string {
	v, ok := r.Metrics[unit]
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timeUnits are the suffixes of custom metrics that are durations, in nanoseconds each.
var timeUnits = []struct {
	suffix string
	ns     float64
}{{"-ns", 1}, {"-µs", 1e3}, {"-us", 1e3}, {"-ms", 1e6}, {"-s", 1e9}}

// durationMetric splits a custom duration metric such as "p99-ms" into its name and its
// value in nanoseconds.
func durationMetric(v float64, unit string) (name string, ns float64, ok bool) {
	for _, u := range timeUnits {
		if name, ok := strings.CutSuffix(unit, u.suffix); ok {
			return name, v * u.ns, true
		}
	}
	return "", 0, false
}

// formatMetric shows a custom metric; durations (units such as p99-ms) in a readable unit.
func formatMetric(v float64, unit string) string {
	if name, ns, ok := durationMetric(v, unit); ok {
		return name + " " + nsString(ns)
	}
	if math.Abs(v) >= 1000 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}

// microTarget is a design target of issue 10 that a benchmark's own percentile measures.
// BenchmarkDecisions is no such measure: it keeps 512 readings in flight to find the
// decider's throughput, so its percentiles are mostly queueing.
type microTarget struct {
	name, bench, metric string
	limit               time.Duration
}

var targetsOfMicro = []microTarget{
	{"reading→decision p99 (decider, 100 objects, through the bus)", "ReadingToDecision", "p99", 5 * time.Millisecond},
	{"metrics-api GetExternalMetric p99 in process (10,000 metrics)", "GetExternalMetric/metrics=10000", "p99", time.Millisecond},
}

// microTargets checks the results against the targets they measure; a target whose
// benchmark did not run is reported as missed.
func microTargets(results []BenchResult) []Target {
	var out []Target
	for _, mt := range targetsOfMicro {
		tg := Target{Name: mt.name, Want: "under " + nsString(float64(mt.limit)), Got: "not measured", Miss: "the benchmark did not run"}
		for _, r := range results {
			if r.Name != mt.bench {
				continue
			}
			for unit, v := range r.Metrics {
				if name, ns, ok := durationMetric(v, unit); ok && name == mt.metric {
					got := time.Duration(ns)
					tg.Got, tg.Met, tg.Miss = nsString(ns), got < mt.limit, ""
					if !tg.Met {
						tg.Miss = "by " + nsString(float64(got-mt.limit))
					}
				}
			}
		}
		out = append(out, tg)
	}
	return out
}

// nsString shows nanoseconds in the unit that keeps three or four digits.
func nsString(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
