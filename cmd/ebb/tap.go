package main

import (
	"context"
	"flag"
	"io"
	"os"
	"time"

	"ebb.dev/bus"
	"ebb.dev/bus/tap"
)

func runTap(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tap", flag.ContinueOnError)
	shared := addBusFlags(fs, bus.RoleTap)
	var cfg tap.Config
	var since, kind, types, output string
	var utc bool
	fs.StringVar(&since, "since", "", "replay decisions and actions from a time: 1h back, or 2026-11-28T14:00:00Z")
	fs.BoolVar(&cfg.Follow, "follow", true, "with -since, keep printing live messages after the replay")
	for _, name := range []string{"namespace", "n"} {
		fs.StringVar(&cfg.Filter.Namespace, name, "", "only this namespace")
	}
	fs.StringVar(&cfg.Filter.Name, "name", "", "only objects of this name")
	fs.StringVar(&kind, "kind", "", "only ScaledObject (so) or ScaledJob (sj)")
	fs.StringVar(&types, "type", "", "only these message types: reading,decision,action")
	for _, name := range []string{"output", "o"} {
		fs.StringVar(&output, name, "text", "text or json")
	}
	fs.BoolVar(&utc, "utc", false, "print times in UTC, not local time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now()
	var err error
	if since != "" {
		if cfg.Since, err = tap.ParseSince(since, now); err != nil {
			return err
		}
	}
	if cfg.Filter.Kind, err = tap.ParseKind(kind); err != nil {
		return err
	}
	if cfg.Types, err = tap.ParseTypes(types); err != nil {
		return err
	}
	cfg.Output, cfg.Location = tap.Output(output), time.Local
	if utc {
		cfg.Location = time.UTC
	}
	cfg.Layout = tap.Layout(cfg.Since, now, cfg.Location)
	if err := cfg.Validate(); err != nil {
		return err
	}
	conn, err := shared.connect(ctx, os.Stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	return tap.Run(ctx, conn, cfg, stdout)
}
