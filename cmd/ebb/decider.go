package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime/pkg/log"

	"ebb.dev/bus"
	"ebb.dev/services/decider"
)

func runDecider(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("decider", flag.ContinueOnError)
	shared := addServiceFlags(fs, bus.RoleDecider)
	ops := addOpsFlags(fs)
	var cfg decider.Config
	fs.StringVar(&cfg.ID, "id", os.Getenv("POD_NAME"), "this replica's name among the deciders (default $POD_NAME, else the host name)")
	fs.IntVar(&cfg.Workers, "workers", decider.DefaultWorkers, "objects decided at once")
	fs.IntVar(&cfg.Partitions, "partitions", 0, "partitions the objects are cut into among the replicas, the same on every replica (default 64)")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", 0, "how long a silent replica keeps its objects (default 6s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log, err := shared.logger(os.Stderr)
	if err != nil {
		return err
	}
	log = log.With("service", "decider")
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	cfg.Kubeconfig = shared.kubeconfig
	cfg.Bus = shared.busConfig(log)
	cfg.Metrics = decider.NewMetrics(ops.registry)
	if err := cfg.Validate(); err != nil {
		return err
	}
	// The decider dials the bus itself; it is ready once running (its bus errors end the process).
	if err := ops.serve(ctx, func() error { return nil }, log); err != nil {
		return err
	}
	return decider.Run(ctx, cfg, log)
}
