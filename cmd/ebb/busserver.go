package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// runBus runs one node of the bus: a standalone server, or one of a cluster's three.
func runBus(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bus", flag.ContinueOnError)
	var (
		cfg                       bus.Config
		mode, prefix, usersDir    string
		routes, routePasswordFile string
		logFormat                 = "json"
		tlsCert, tlsKey, tlsCA    string
		verifyClients             bool
	)
	fs.StringVar(&mode, "mode", string(bus.Standalone), "standalone or cluster")
	fs.StringVar(&cfg.Name, "name", "ebb", "server name, unique per cluster node (e.g. the pod name)")
	fs.StringVar(&cfg.Host, "host", "0.0.0.0", "client listen address")
	fs.IntVar(&cfg.Port, "port", bus.DefaultPort, "client port")
	fs.IntVar(&cfg.HTTPPort, "http-port", 8222, "monitoring port (/healthz, /varz, /jsz); 0 is off")
	fs.StringVar(&cfg.StoreDir, "store-dir", "/data/jetstream", "JetStream file store")
	fs.StringVar(&prefix, "prefix", string(msg.DefaultPrefix), "subject prefix")
	fs.StringVar(&usersDir, "users-dir", "/etc/ebb/bus-users", "directory of <user>.password or <user>.nkey files (a mounted Secret)")
	fs.StringVar(&tlsCert, "tls-cert-file", "", "serve clients over TLS with this certificate")
	fs.StringVar(&tlsKey, "tls-key-file", "", "key of -tls-cert-file")
	fs.StringVar(&tlsCA, "tls-ca-file", "", "CA of client certificates, with -tls-verify-clients")
	fs.BoolVar(&verifyClients, "tls-verify-clients", false, "require client certificates")
	fs.StringVar(&cfg.Cluster.Name, "cluster-name", "ebb", "cluster name (cluster mode)")
	fs.IntVar(&cfg.Cluster.Port, "cluster-port", bus.DefaultClusterPort, "route port (cluster mode)")
	fs.StringVar(&routes, "routes", "", "route URLs of every node, comma-separated (cluster mode)")
	fs.StringVar(&cfg.Cluster.User, "route-user", "route", "user routes authenticate as (cluster mode)")
	fs.StringVar(&routePasswordFile, "route-password-file", "", "file holding the route password (cluster mode)")
	fs.DurationVar(&cfg.AuditMaxAge, "audit-max-age", bus.DefaultAuditMaxAge, "how long decisions and actions are kept")
	fs.Int64Var(&cfg.AuditMaxBytes, "audit-max-bytes", bus.DefaultAuditMaxBytes, "the audit stream's size limit")
	fs.StringVar(&logFormat, "log-format", logFormat, "json or text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := (&busFlags{logFormat: logFormat}).logger(os.Stderr)
	if err != nil {
		return err
	}
	cfg.Mode, cfg.Prefix, cfg.Logger = bus.Mode(mode), msg.Prefix(prefix), log.With("service", "bus")
	if cfg.Users, err = bus.LoadUsers(usersDir); err != nil {
		return err
	}
	if tlsCert != "" {
		cfg.TLS = &bus.TLS{CertFile: tlsCert, KeyFile: tlsKey, CAFile: tlsCA, VerifyClients: verifyClients}
	}
	if cfg.Mode == bus.Cluster {
		cfg.Cluster.Routes = strings.Split(routes, ",")
		if cfg.Cluster.Password, err = bus.ReadSecretFile(routePasswordFile); err != nil {
			return fmt.Errorf("-route-password-file: %w", err)
		}
	}
	srv, err := bus.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	if err := srv.Ready(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bus %s ready at %s\n", cfg.Name, srv.ClientURL())
	<-ctx.Done()
	return nil
}
