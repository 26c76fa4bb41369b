// Command ebb-demo is `make run`: a local control plane, the bus and all four services as
// separate processes started with the arguments deploy/kustomize gives them, a worker
// Deployment at 0 replicas and an embedded NATS JetStream queue as its event source. It
// publishes a burst of work, plays the workers draining it at a rate that grows with the
// replicas ebb gives them, and shows the scaling live: `ebb tap` lines and the replica count,
// through 0→N→0. Enter sends another burst; Ctrl-C stops everything.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.ebb, "ebb", "bin/ebb", "the built ebb binary")
	flag.StringVar(&cfg.repo, "repo", ".", "the ebb checkout (for deploy/kustomize and the CRDs)")
	flag.StringVar(&cfg.dir, "dir", "", "state and logs (default: a new temp dir, removed on exit)")
	flag.IntVar(&cfg.burst, "burst", 200, "messages in a burst")
	flag.IntVar(&cfg.perReplica, "per-replica", 4, "messages one worker replica handles per second")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ebb-demo:", err)
		os.Exit(1)
	}
}

type config struct {
	ebb, repo, dir    string
	burst, perReplica int
}

func run(ctx context.Context, cfg config) error {
	var err error
	if cfg.ebb, err = filepath.Abs(cfg.ebb); err != nil {
		return err
	}
	if cfg.dir == "" {
		if cfg.dir, err = os.MkdirTemp("", "ebb-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(cfg.dir)
	}
	say("starting the local control plane (etcd, kube-apiserver, kube-controller-manager)…")
	d, err := startDemo(ctx, cfg)
	if d != nil {
		defer d.stop()
	}
	if err != nil {
		return err
	}
	d.explain()
	if err := d.burst(ctx); err != nil {
		return err
	}
	go d.readBursts(ctx)
	d.watch(ctx)
	say("stopping everything…")
	return nil
}

func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
