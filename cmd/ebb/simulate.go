package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"ebb.dev/services/decider/simulate"
)

// runSimulate binds `ebb simulate` flags to a simulate.Config.
func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg simulate.Config
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: ebb simulate -f object.yaml -t timeline.jsonl [-o table|json] [--plot out.svg] [--pod-start 30s] [--duration 20m] [--replicas N]")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Object, "f", "", "the ScaledObject or ScaledJob (YAML or JSON)")
	fs.StringVar(&cfg.Timeline, "t", "", "the timeline: JSON lines of {\"at\", \"values\", \"errors\", \"running\", \"pending\"}")
	fs.StringVar(&cfg.Output, "o", simulate.OutputTable, "output: table or json (one event per line)")
	fs.StringVar(&cfg.Plot, "plot", "", "also draw replicas and readings over time into this .svg file")
	fs.DurationVar(&cfg.PodStart, "pod-start", 0, "how long a new pod takes to become ready (default: at once)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to simulate (default: until the timeline has played out)")
	replicas := fs.Int("replicas", 0, "the target's replicas at the start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Replicas = int32(*replicas)
	return simulate.Main(ctx, cfg, stdout)
}
