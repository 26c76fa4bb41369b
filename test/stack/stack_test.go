package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInCluster checks which deployed flags Start refuses to pass on unset: paths in the
// container, listen addresses and cluster URLs, unless its own flags set them again.
func TestInCluster(t *testing.T) {
	local := []string{"-bus-url", "nats://127.0.0.1:1", "-kubeconfig=/tmp/k", "-webhook=false"}
	tests := map[string]struct {
		deployed, want []string
	}{
		"overridden, either form": {deployed: []string{"poller", "-bus-url=nats://ebb-bus.ebb-system.svc:4222", "-kubeconfig=/var/run/k"}},
		"plain values pass":       {deployed: []string{"poller", "-sources=kafka", "-port=6443", "-webhook=true"}},
		"a path":                  {deployed: []string{"actuator", "-webhook-cert-dir=/certs"}, want: []string{"-webhook-cert-dir=/certs"}},
		"a listen address":        {deployed: []string{"decider", "-health-probe-bind-address=:8081"}, want: []string{"-health-probe-bind-address=:8081"}},
		"a URL":                   {deployed: []string{"poller", "-api=https://kubernetes.default.svc"}, want: []string{"-api=https://kubernetes.default.svc"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, inCluster(tt.deployed, local)); diff != "" {
				t.Errorf("inCluster (-want +got):\n%s", diff)
			}
		})
	}
}
