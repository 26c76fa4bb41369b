package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// busFlags are the flags of every command that talks to the bus: how to reach it and how to log.
type busFlags struct {
	bus       bus.ClientConfig
	prefix    string
	logFormat string
	logLevel  slog.Level
}

// serviceFlags add the cluster connection that services need.
type serviceFlags struct {
	*busFlags
	kubeconfig string
}

// addServiceFlags binds the shared service flags; role is the bus user the service connects as.
func addServiceFlags(fs *flag.FlagSet, role bus.Role) *serviceFlags {
	f := &serviceFlags{busFlags: addBusFlags(fs, role)}
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig; in-cluster configuration when empty")
	return f
}

// addBusFlags binds the bus client and logging flags; role is the default bus user.
func addBusFlags(fs *flag.FlagSet, role bus.Role) *busFlags {
	f := &busFlags{}
	fs.StringVar(&f.bus.URL, "bus-url", "nats://127.0.0.1:4222", "bus URLs, comma-separated (every node of a cluster)")
	fs.StringVar(&f.bus.User, "bus-user", string(role), "bus user")
	fs.StringVar(&f.bus.PasswordFile, "bus-password-file", "", "file holding the bus user's password (a mounted Secret)")
	fs.StringVar(&f.bus.NKeySeedFile, "bus-nkey-seed-file", "", "file holding the bus user's NKEY seed, instead of a password")
	fs.StringVar(&f.bus.CAFile, "bus-ca-file", "", "CA that signs the bus's TLS certificate")
	fs.StringVar(&f.bus.CertFile, "bus-cert-file", "", "client certificate for a bus that verifies clients")
	fs.StringVar(&f.bus.KeyFile, "bus-key-file", "", "key of -bus-cert-file")
	fs.StringVar(&f.prefix, "bus-prefix", string(msg.DefaultPrefix), "subject prefix")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
	return f
}

// logger is the service's one logger, built once in main and passed down.
func (f *busFlags) logger(w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: f.logLevel}
	switch strings.ToLower(f.logFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want json or text", f.logFormat)
}

// busConfig is the bus client configuration, with the logger attached.
func (f *busFlags) busConfig(log *slog.Logger) bus.ClientConfig {
	cfg := f.bus
	cfg.Prefix = msg.Prefix(f.prefix)
	cfg.Logger = log
	return cfg
}

// connect dials the bus for a user tool, logging to w.
func (f *busFlags) connect(ctx context.Context, w io.Writer) (*bus.Conn, error) {
	log, err := f.logger(w)
	if err != nil {
		return nil, err
	}
	return bus.Connect(ctx, f.busConfig(log))
}

// restConfig is the cluster client configuration from -kubeconfig or the pod's service account.
func (f *serviceFlags) restConfig() (*rest.Config, error) {
	if f.kubeconfig == "" {
		return rest.InClusterConfig()
	}
	return clientcmd.BuildConfigFromFlags("", f.kubeconfig)
}
