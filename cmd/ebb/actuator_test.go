package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunActuatorRejectsBadFlags checks that flags reach actuator.Config and that a config the
// actuator cannot run with fails before anything connects, naming what is wrong.
func TestRunActuatorRejectsBadFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"negative QPS":                     {args: []string{"-kube-api-qps", "-1"}, wantErr: "QPS and Burst must not be negative"},
		"a lease shorter than its renewal": {args: []string{"-leader-election-lease-duration", "2s"}, wantErr: "LeaseDuration (2s) > RenewDeadline (4s)"},
		"the webhook without a DNS name":   {args: []string{"-webhook-dns-names", ""}, wantErr: "DNSNames"},
		"no bus URL":                       {args: []string{"-bus-url", ""}, wantErr: "Bus.URL must be set"},
		"an unknown log format":            {args: []string{"-log-format", "xml"}, wantErr: `-log-format "xml"`},
		"negative workers":                 {args: []string{"-workers", "-2"}, wantErr: "Workers and ReconcileWorkers must not be negative"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"actuator"}, tc.args...), &stdout, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("exit %d, stderr %q: want 1 and an error containing %q", code, stderr.String(), tc.wantErr)
			}
		})
	}
}
