package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime/pkg/log"

	"ebb.dev/bus"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/scaler"
)

func runPoller(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("poller", flag.ContinueOnError)
	shared := addServiceFlags(fs, bus.RolePoller)
	ops := addOpsFlags(fs)
	var cfg poller.Config
	var sources string
	fs.StringVar(&cfg.ID, "id", os.Getenv("POD_NAME"), "this replica's name among the pollers (default $POD_NAME, else the host name)")
	fs.StringVar(&cfg.Namespace, "namespace", envOr("POD_NAMESPACE", poller.DefaultNamespace), "ebb's namespace, where ClusterTriggerAuthentications' Secrets live")
	fs.StringVar(&sources, "sources", "", "trigger types this replica polls, comma-separated (e.g. kafka,rabbitmq); empty: every type")
	fs.DurationVar(&cfg.Timeout, "poll-timeout", poller.DefaultTimeout, "bound on one poll (a trigger's pollingInterval caps it)")
	fs.DurationVar(&cfg.WorkloadTTL, "workload-ttl", time.Minute, "how long a scale target's pod template is reused for <param>FromEnv")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sources != "" {
		cfg.Sources = strings.Split(sources, ",")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log, err := shared.logger(os.Stderr)
	if err != nil {
		return err
	}
	log = log.With("service", "poller")
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	rc, err := shared.restConfig()
	if err != nil {
		return err
	}
	conn, err := bus.Connect(ctx, shared.busConfig(log))
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ops.serve(ctx, busReady(conn.NATS().IsConnected), log); err != nil {
		return err
	}
	pool := scaler.NewPool()
	deps := poller.Deps{
		Kube:    rc,
		Bus:     conn,
		Scalers: poller.Scalers(scaler.Builtin(), scaler.Deps{Now: time.Now, Pool: pool, Log: log}),
		Log:     log,
		Metrics: poller.NewMetrics(ops.registry),
	}
	return poller.Run(ctx, cfg, deps)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
