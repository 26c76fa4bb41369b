// Command ebb-bench is `make bench`: it runs the benchmark scenarios of package bench (Go
// micro benchmarks, then ebb on a local control plane), writes report.md and an SVG per chart
// into a new folder under -out, and prints the report's path. A scenario that fails is
// reported in its section and the others still run; the exit status is then 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"ebb.dev/test/bench"
)

type config struct {
	out, scenarios, ebb, repo string
	trials                    int
	quick                     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.out, "out", "bench-results", "folder for the reports; each run writes a new dated folder in it (and points latest at it)")
	flag.StringVar(&cfg.scenarios, "scenarios", "", "scenarios to run, comma separated (default all: "+strings.Join(names(bench.Scenarios()), ",")+")")
	flag.IntVar(&cfg.trials, "trials", 5, "trials per latency measure at least (the reaction scenario wants 20 per lane, time permitting)")
	flag.BoolVar(&cfg.quick, "quick", false, "fewer trials and smaller counts: a run to try the scenarios, not to quote")
	flag.StringVar(&cfg.ebb, "ebb", "bin/ebb", "the built ebb binary")
	flag.StringVar(&cfg.repo, "repo", ".", "the ebb checkout (deploy/kustomize, the Go packages)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	failed, err := run(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ebb-bench:", err)
		os.Exit(2)
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "ebb-bench: %d scenario(s) failed; see their sections in the report\n", failed)
		os.Exit(1)
	}
}

// run runs the chosen scenarios and writes the report; it returns how many failed.
func run(ctx context.Context, cfg config, log *slog.Logger) (int, error) {
	scenarios, err := choose(bench.Scenarios(), cfg.scenarios)
	if err != nil {
		return 0, err
	}
	if cfg.ebb, err = filepath.Abs(cfg.ebb); err != nil {
		return 0, err
	}
	if cfg.repo, err = filepath.Abs(cfg.repo); err != nil {
		return 0, err
	}
	if _, err := os.Stat(cfg.ebb); err != nil {
		return 0, fmt.Errorf("ebb binary: %w (make build writes bin/ebb)", err)
	}
	m := machine(ctx, cfg.repo)
	dir := filepath.Join(cfg.out, m.Started.UTC().Format("20060102T150405Z"))
	failed := 0
	var sections []bench.Section
	for _, s := range scenarios {
		env := bench.Env{EBB: cfg.ebb, Repo: cfg.repo, Dir: filepath.Join(dir, s.Name), Trials: cfg.trials, Quick: cfg.quick,
			Log: log.With("scenario", s.Name)}
		sec, ok := runScenario(ctx, s, env)
		if !ok {
			failed++
		}
		sections = append(sections, sec)
		// Written after every scenario, so an interrupted run still leaves what it measured.
		if err := bench.Write(dir, m, sections); err != nil {
			return failed, err
		}
	}
	latest := filepath.Join(cfg.out, "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(dir), latest)
	fmt.Println(filepath.Join(dir, "report.md"))
	return failed, nil
}

// choose picks the scenarios named in list (all when empty), in the order Scenarios gives.
func choose(all []bench.Scenario, list string) ([]bench.Scenario, error) {
	if list == "" {
		return all, nil
	}
	want := strings.Split(list, ",")
	for _, w := range want {
		if !slices.Contains(names(all), w) {
			return nil, fmt.Errorf("no scenario %q; there are %s", w, strings.Join(names(all), ", "))
		}
	}
	var out []bench.Scenario
	for _, s := range all {
		if slices.Contains(want, s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

func names(ss []bench.Scenario) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}
