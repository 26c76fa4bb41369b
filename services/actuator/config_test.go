package actuator

import (
	"strings"
	"testing"
	"time"

	"ebb.dev/bus"
	"ebb.dev/services/actuator/webhook"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Bus: bus.ClientConfig{URL: "nats://127.0.0.1:4222"}, Webhook: webhook.Config{DNSNames: []string{"ebb-actuator-webhook.ebb-system.svc"}}}
	}
	tests := map[string]struct {
		change  func(*Config)
		wantErr string // empty: valid
	}{
		"zero values mean defaults":      {change: func(*Config) {}},
		"no webhook needs no DNS names":  {change: func(c *Config) { c.DisableWebhook, c.Webhook = true, webhook.Config{} }},
		"no election ignores its timing": {change: func(c *Config) { c.LeaderElection = LeaderElection{Disabled: true, LeaseDuration: time.Second} }},
		"negative QPS":                   {change: func(c *Config) { c.QPS = -1 }, wantErr: "QPS and Burst"},
		"negative burst":                 {change: func(c *Config) { c.Burst = -1 }, wantErr: "QPS and Burst"},
		"negative workers":               {change: func(c *Config) { c.Workers = -1 }, wantErr: "Workers"},
		"negative resolution":            {change: func(c *Config) { c.LastActiveResolution = -time.Second }, wantErr: "LastActiveResolution"},
		"no bus":                         {change: func(c *Config) { c.Bus.URL = "" }, wantErr: "Bus.URL"},
		"webhook without names":          {change: func(c *Config) { c.Webhook.DNSNames = nil }, wantErr: "DNSNames"},
		"lease not longer than renewal": {
			change:  func(c *Config) { c.LeaderElection.LeaseDuration = 4 * time.Second },
			wantErr: "LeaseDuration (4s) > RenewDeadline (4s) > RetryPeriod (1s)",
		},
		"renewal not longer than retry": {
			change:  func(c *Config) { c.LeaderElection.RetryPeriod = 5 * time.Second },
			wantErr: "RenewDeadline (4s) > RetryPeriod (5s)",
		},
		"negative lease": {change: func(c *Config) { c.LeaderElection.LeaseDuration = -1 }, wantErr: "must not be negative"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := valid()
			tc.change(&cfg)
			err := cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	le := got.LeaderElection
	if got.QPS != DefaultQPS || got.Burst != DefaultBurst || got.Workers != DefaultWorkers || got.ReconcileWorkers != DefaultReconcileWorkers ||
		got.Bus.User != "actuator" || got.MetricsAddr != ":8080" || got.HealthAddr != ":8081" ||
		le.Namespace != DefaultLeaseNamespace || le.Name != DefaultLeaseName || le.Identity == "" ||
		le.LeaseDuration != DefaultLeaseDuration || le.RenewDeadline != DefaultRenewDeadline || le.RetryPeriod != DefaultRetryPeriod {
		t.Errorf("defaults = %+v", got)
	}
	if other := (Config{}).withDefaults().LeaderElection.Identity; other == le.Identity {
		t.Errorf("two replicas on one host got the same identity %q", other)
	}
}

// TestWebhookSecretNamespace: the webhook keeps its certificates in the actuator's own
// namespace, the Lease's, unless told otherwise.
func TestWebhookSecretNamespace(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"the default Lease namespace": {Config{}, DefaultLeaseNamespace},
		"the Lease's namespace":       {Config{LeaderElection: LeaderElection{Namespace: "ebb"}}, "ebb"},
		"without leader election":     {Config{LeaderElection: LeaderElection{Disabled: true, Namespace: "ebb"}}, "ebb"},
		"set apart":                   {Config{LeaderElection: LeaderElection{Namespace: "ebb"}, Webhook: webhook.Config{SecretNamespace: "certs"}}, "certs"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.cfg.withDefaults().Webhook.SecretNamespace; got != tc.want {
				t.Errorf("Webhook.SecretNamespace = %q, want %q", got, tc.want)
			}
		})
	}
}
