package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"

	"ebb.dev/bus"
	metricsapi "ebb.dev/services/metrics-api"
)

func runMetricsAPI(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("metrics-api", flag.ContinueOnError)
	shared := addServiceFlags(fs, bus.RoleMetricsAPI)
	ops := addOpsFlags(fs)
	var cfg metricsapi.Config
	var dnsNames string
	fs.StringVar(&cfg.BindAddress, "bind-address", "0.0.0.0", "address the aggregation layer reaches")
	fs.IntVar(&cfg.Port, "port", 6443, "HTTPS port")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert-file", "", "serving certificate; generated into -cert-dir when empty")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key-file", "", "key of -tls-cert-file")
	fs.StringVar(&cfg.CertDir, "cert-dir", "", "where a generated certificate is kept")
	fs.StringVar(&dnsNames, "dns-names", "ebb-metrics-api.ebb-system.svc", "names for a generated certificate, comma-separated (the APIService's Service)")
	fs.IntVar(&cfg.StaleAfter, "stale-after", 3, "polling intervals a value stays servable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := shared.logger(os.Stderr)
	if err != nil {
		return err
	}
	cfg.Kubeconfig = shared.kubeconfig
	cfg.DNSNames = strings.Split(dnsNames, ",")
	cfg.Bus = shared.busConfig(log)
	cfg.Metrics = metricsapi.NewMetrics(ops.registry)
	log = log.With("service", "metrics-api")
	// Its HTTPS port answers the aggregator's probes; these plain ones are for the kubelet
	// and Prometheus. It dials the bus itself and is ready once running.
	if err := ops.serve(ctx, func() error { return nil }, log); err != nil {
		return err
	}
	return metricsapi.Run(ctx, cfg, log)
}
