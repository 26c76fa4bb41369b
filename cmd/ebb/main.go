// Command ebb runs ebb's services and its user tools. Each subcommand only parses flags and
// hands a Config to the package that does the work.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: a one-line summary and what it runs.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"actuator":    {"apply decisions to the cluster (scale, HPAs, Jobs, status) and serve the admission webhook", runActuator},
		"bus":         {"run a node of the bus (NATS with JetStream)", runBus},
		"decider":     {"decide activation and replica targets from the readings on the bus", runDecider},
		"explain":     {"say why an object has its replica count and what changes it next, from the bus (and the cluster)", runExplain},
		"metrics-api": {"serve trigger values to the HPA as external.metrics.k8s.io", runMetricsAPI},
		"poller":      {"poll the event sources of this replica's share of the triggers and publish readings", runPoller},
		"simulate":    {"replay a ScaledObject or ScaledJob against a timeline of readings", runSimulate},
		"tap":         {"print readings, decisions and actions live, or replay decisions and actions", runTap},
		"version":     {"print ebb's version", runVersion},
	}
}

// version is stamped by the build (-ldflags -X main.version=...).
var version = "dev"

func runVersion(_ context.Context, _ []string, stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "ebb %s\n", version)
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ebb: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout); err != nil {
		fmt.Fprintf(stderr, "ebb %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: ebb <command> [flags]\n\ncommands:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, cmds[name].summary)
	}
}
