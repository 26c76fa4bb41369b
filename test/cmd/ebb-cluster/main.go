// Command ebb-cluster runs the local control plane (package cluster) until interrupted:
//
//	ebb-cluster [-dir DIR] [-kubeconfig PATH] [-controller-manager=false]
//
// It prints the kubeconfig to use and, on Ctrl-C or SIGTERM, stops every process it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ebb.dev/test/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ebb-cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg        cluster.Config
		kubeconfig string
	)
	flag.StringVar(&cfg.Dir, "dir", "", "directory for certificates, data and logs (default: a new temp dir, removed on exit)")
	flag.BoolVar(&cfg.ControllerManager, "controller-manager", true, "also run kube-controller-manager")
	flag.StringVar(&kubeconfig, "kubeconfig", "", "also copy the admin kubeconfig to this path")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Stop()
	if kubeconfig != "" {
		data, err := os.ReadFile(c.Kubeconfig)
		if err != nil {
			return err
		}
		if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
			return err
		}
	} else {
		kubeconfig = c.Kubeconfig
	}
	fmt.Printf("control plane %s ready in %s at %s\n", cluster.KubernetesVersion, time.Since(started).Round(time.Millisecond), c.APIServerURL)
	fmt.Printf("  export KUBECONFIG=%s\n", kubeconfig)
	for name, path := range c.Logs() {
		fmt.Printf("  %s log: %s\n", name, path)
	}
	fmt.Println("Ctrl-C stops it.")
	<-ctx.Done()
	fmt.Println("stopping…")
	return nil
}
