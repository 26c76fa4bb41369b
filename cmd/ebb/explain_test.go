package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg/msgtest"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

// ebb explain against a real bus and a real API server: the spec read from the cluster
// turns "not known" into numbers.
func TestExplain(t *testing.T) {
	b := bustest.Start(t)
	c := clustertest.Start(t, cluster.Config{})
	clustertest.InstallKEDACRDs(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	// The fixture is stamped around msgtest.T0; moved to a minute ago, the report reads as it
	// would today (times of day, nothing stale), whatever day the test runs.
	now := time.Now().UTC().Truncate(time.Second)
	stamp := now.Add(-time.Minute)
	if today := now.Truncate(24 * time.Hour); stamp.Before(today) {
		stamp = today // just after midnight: stay on today, or the report prints dates
	}
	shift := stamp.Sub(msgtest.T0)
	d := msgtest.CooldownDecision()
	d.DecidedAt, d.NextChangeAt = d.DecidedAt.Add(shift), d.NextChangeAt.Add(shift)
	for i := range d.Inputs {
		d.Inputs[i].ObservedAt = d.Inputs[i].ObservedAt.Add(shift)
	}
	at := func(t time.Time) string { return t.Add(shift).Format(time.TimeOnly) }
	if err := b.Connect(t, bus.RolePoller).Publish(ctx, d.Inputs[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(t, bus.RoleDecider).Publish(ctx, d); err != nil {
		t.Fatal(err)
	}
	createScaledObject(ctx, t, c.Kubeconfig)

	cc := b.ClientConfig(bus.RoleTap)
	passwordFile := filepath.Join(t.TempDir(), "tap.password")
	if err := os.WriteFile(passwordFile, []byte(cc.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "") // the bus alone unless a test names a kubeconfig
	busFlags := []string{"-bus-url", cc.URL, "-bus-password-file", passwordFile, "-utc"}
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		"the bus alone": {
			args: []string{"orders/consumer"},
			wantStdout: []string{
				"orders/consumer (ScaledObject, generation 2) at ",
				"\nstate     inactive, 1 replica (cooldown)\n",
				"\nnext      scales to 0 (or idleReplicaCount) at " + at(msgtest.T0.Add(5*time.Minute)) + " unless a reading exceeds its activation threshold\n",
				"\nunknown   spec and status: the cluster was not read (give -kubeconfig)",
			},
		},
		"with the cluster, flags after the object": {
			args: []string{"orders/consumer", "-kubeconfig", c.Kubeconfig},
			wantStdout: []string{
				"\nspec      replicas 0–30, cooldown 300s, polling 30s, fallback 6 replicas after 3 failures (static)\n",
				"\n  0 rabbitmq s0-rabbitmq-orders=0/5 inactive, activation 2, read " + at(msgtest.T0),
				"\nnext      scales to 0 at " + at(msgtest.T0.Add(5*time.Minute)) + " unless a reading of s0-rabbitmq-orders exceeds 2\n",
			},
		},
		"with the cluster from $KUBECONFIG, as json": {
			args:       []string{"-o", "json", "orders/consumer"},
			wantStdout: []string{`"maxReplicaCount": 30`, `"do": "scales to 0"`, `"at": "` + msgtest.T0.Add(5*time.Minute+shift).Format(time.RFC3339) + `"`},
		},
		"a ScaledJob the cluster does not have": {
			args:       []string{"-kind", "sj", "-kubeconfig", c.Kubeconfig, "orders/consumer"},
			wantStdout: []string{"the cluster has no ScaledJob orders/consumer", "nothing on the bus for this object"},
		},
		"no object":        {args: []string{}, wantCode: 1, wantStderr: "want one object: ebb explain <namespace>/<name>"},
		"two objects":      {args: []string{"orders/a", "orders/b"}, wantCode: 1, wantStderr: "want one object"},
		"a name only":      {args: []string{"consumer"}, wantCode: 1, wantStderr: `object "consumer": want <namespace>/<name>`},
		"a bad kind":       {args: []string{"-kind", "Deployment", "orders/consumer"}, wantCode: 1, wantStderr: `kind "Deployment"`},
		"a bad output":     {args: []string{"-o", "yaml", "orders/consumer"}, wantCode: 1, wantStderr: `-output "yaml": want text or json`},
		"a bad kubeconfig": {args: []string{"-kubeconfig", filepath.Join(t.TempDir(), "missing"), "orders/consumer"}, wantCode: 1, wantStderr: "kubeconfig:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(name, "$KUBECONFIG") {
				t.Setenv("KUBECONFIG", c.Kubeconfig)
			}
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"explain"}, busFlags...), tc.args...)
			if code := run(ctx, args, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout =\n%s\nwant it to contain %q", stdout.String(), want)
				}
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// createScaledObject creates orders/consumer: rabbitmq, target 5, activation 2, max 30,
// fallback 6 replicas after 3 failures; its generation is then 1, so it is bumped to 2 by
// an update, as the decision's generation says.
func createScaledObject(ctx context.Context, t *testing.T, kubeconfig string) {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{v1alpha1.AddToScheme, corev1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	k, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	maxReplicas := int32(30)
	so := &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "orders", Name: "consumer"},
		Spec: v1alpha1.ScaledObjectSpec{
			ScaleTargetRef:  &v1alpha1.ScaleTarget{Name: "consumer"},
			MaxReplicaCount: &maxReplicas,
			Triggers: []v1alpha1.ScaleTriggers{{Type: "rabbitmq", Metadata: map[string]string{
				"host": "amqp://rabbitmq", "queueName": "orders", "value": "5", "activationValue": "2",
			}}},
		},
	}
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "orders"}}); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	so.Spec.Fallback = &v1alpha1.Fallback{FailureThreshold: 3, Replicas: 6}
	if err := k.Update(ctx, so); err != nil {
		t.Fatal(err)
	}
	if so.Generation != 2 {
		t.Fatalf("ScaledObject generation = %d, want 2", so.Generation)
	}
}
