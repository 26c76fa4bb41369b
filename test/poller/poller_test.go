package poller

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/pollertest"
)

// broker stands in for a RabbitMQ broker: it accepts the passwords it is told (any, until
// told) and reads a queue's length as the number of letters in its name. Like a careless
// scaler, its login error repeats the password it was given.
type broker struct {
	mu        sync.Mutex
	passwords []string
}

func (b *broker) accept(pws ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.passwords = pws
}

func (b *broker) source() *pollertest.Source {
	return &pollertest.Source{Types: []string{"rabbitmq"}, Value: func(_ context.Context, _ string, m trigger.Metadata) (float64, error) {
		r := m.(trigger.RabbitMQ)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.passwords != nil && !slices.Contains(b.passwords, r.Password) {
			return 0, errors.New("ACCESS_REFUSED: login with password " + r.Password + " refused")
		}
		return float64(len(r.QueueName)), nil
	}}
}

func readingKey(ns, name string, i int) string {
	return msg.ReadingKey(msg.ObjectRef{Namespace: ns, Kind: msg.ScaledObject, Name: name}, i)
}

func TestRotatedSecretTakesEffectWithoutRestart(t *testing.T) {
	e := start(t)
	ns := e.namespace(t, "rotate")
	mq := &broker{}
	mq.accept("right-password")
	e.create(t,
		secret(ns, "mq", map[string]string{"username": "app", "password": "wrong-password"}),
		triggerAuth(ns, "mq", v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
			{Parameter: "username", Name: "mq", Key: "username"}, {Parameter: "password", Name: "mq", Key: "password"},
		}}),
		scaledObject(ns, "app", 1, rabbit("orders", "mq")),
	)
	rec := e.recorder(t)
	e.runPoller(t, poller.Config{ID: "p0"}, mq.source())
	k := readingKey(ns, "app", 0)
	rec.Wait(t, "two failed readings", 15*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) >= 2 })
	for _, r := range rec.Readings(k) {
		if r.Error == "" || r.Value != 0 || r.Active {
			t.Errorf("wrong password: value %v, active %v, error %q; want an error reading", r.Value, r.Active, r.Error)
		}
		if strings.Contains(r.Error, "wrong-password") {
			t.Errorf("the password reached the bus: %q", r.Error)
		}
	}
	fixed := secret(ns, "mq", map[string]string{"username": "app", "password": "right-password"})
	if err := e.client.Update(t.Context(), fixed); err != nil {
		t.Fatal(err)
	}
	rec.Wait(t, "a good reading once the Secret is fixed", 5*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := rec.Last(k)
		return r.Error == "" && r.Value == float64(len("orders"))
	})
}

func TestSpecChangeAndDeletion(t *testing.T) {
	e := start(t)
	ns := e.namespace(t, "change")
	so := scaledObject(ns, "app", 1, rabbit("orders", ""), rabbit("payments", ""))
	e.create(t, deployment(ns, "app", corev1.Container{Name: "main"}), so)
	rec := e.recorder(t)
	e.runPoller(t, poller.Config{ID: "p0"}, (&broker{}).source())
	k0, k1 := readingKey(ns, "app", 0), readingKey(ns, "app", 1)
	rec.Wait(t, "readings of both triggers", 15*time.Second, func(all map[string][]msg.Reading) bool {
		return len(all[k0]) > 0 && len(all[k1]) > 0
	})

	t.Run("a new generation takes effect at the next poll", func(t *testing.T) {
		if err := e.client.Get(t.Context(), client.ObjectKeyFromObject(so), so); err != nil {
			t.Fatal(err)
		}
		so.Spec.Triggers[0].Metadata["queueName"] = "refunds-and-returns"
		if err := e.client.Update(t.Context(), so); err != nil {
			t.Fatal(err)
		}
		rec.Wait(t, "a reading of the new generation", 3*time.Second, func(map[string][]msg.Reading) bool {
			r, _ := rec.Last(k0)
			return r.Object.Generation == so.Generation && r.Trigger.MetricName == "s0-rabbitmq-refunds-and-returns" && r.Value == 19
		})
	})
	t.Run("a deleted object stops at once and loses its last readings", func(t *testing.T) {
		if err := e.client.Delete(t.Context(), so); err != nil {
			t.Fatal(err)
		}
		admin := e.bus.ConnectInProcess(t, bus.RoleAdmin)
		readings, err := admin.Readings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the last readings deleted", 5*time.Second, func(ctx context.Context) (bool, error) {
			for _, k := range []string{k0, k1} {
				if _, err := readings.Get(ctx, k); !errors.Is(err, jetstream.ErrKeyNotFound) {
					return false, nil
				}
			}
			return true, nil
		})
		before := len(rec.Readings(k0)) + len(rec.Readings(k1))
		time.Sleep(2 * time.Second) // two intervals
		if after := len(rec.Readings(k0)) + len(rec.Readings(k1)); after != before {
			t.Errorf("%d readings published after the object's readings were deleted", after-before)
		}
	})
}

// TestCredentialsNeverCrossTheBus runs a trigger whose TriggerAuthentication holds a known
// password, one whose password comes from the workload's env, and one whose source echoes a
// wrong password in its error, and then looks for the passwords in every message and stream.
func TestCredentialsNeverCrossTheBus(t *testing.T) {
	e := start(t)
	capture := e.bus.Capture(t)
	ns := e.namespace(t, "secrets")
	const (
		password = "Pa55-known-to-the-test"
		envPass  = "env-pa55word-of-the-app"
		wrongPW  = "an-0ld-rotated-password"
	)
	mq := &broker{}
	mq.accept(password, envPass)
	passFromEnv := &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app-env"}, Key: "pw"}}
	envAuth := v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "username", Name: "mq", Key: "username"}},
		Env:             []v1alpha1.AuthEnvironment{{Parameter: "password", Name: "MQ_PASSWORD"}},
	}
	e.create(t,
		secret(ns, "mq", map[string]string{"username": "app", "password": password}),
		secret(ns, "old", map[string]string{"username": "app", "password": wrongPW}),
		secret(ns, "app-env", map[string]string{"pw": envPass}),
		deployment(ns, "good", corev1.Container{Name: "main", Env: []corev1.EnvVar{{Name: "MQ_PASSWORD", ValueFrom: passFromEnv}}}),
		triggerAuth(ns, "mq", secretAuth("mq")),
		triggerAuth(ns, "old", secretAuth("old")),
		triggerAuth(ns, "env", envAuth),
		scaledObject(ns, "good", 1, rabbit("orders", "mq"), rabbit("env-orders", "env"), rabbit("stale", "old")),
	)
	rec := e.recorder(t)
	e.runPoller(t, poller.Config{ID: "p0"}, mq.source())
	rec.Wait(t, "two readings of each trigger", 15*time.Second, func(all map[string][]msg.Reading) bool {
		for i := range 3 {
			if len(all[readingKey(ns, "good", i)]) < 2 {
				return false
			}
		}
		return true
	})
	want := map[int]string{0: "", 1: "", 2: "ACCESS_REFUSED: login with password [redacted] refused"}
	for i, wantErr := range want {
		r, _ := rec.Last(readingKey(ns, "good", i))
		if r.Error != wantErr {
			t.Errorf("trigger %d: error %q, want %q", i, r.Error, wantErr)
		}
	}
	mq.accept(envPass) // the TriggerAuthentication's password now fails too, echoed by the source
	rec.Wait(t, "a refused login with the known password", 5*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := rec.Last(readingKey(ns, "good", 0))
		return r.Error != ""
	})
	for _, secret := range []string{password, envPass, wrongPW} {
		capture.AssertNever(t, []byte(secret))
	}
	if n, err := capture.Count(t.Context()); err != nil || n < 6 {
		t.Errorf("captured %d messages (%v): the capture saw too little to prove anything", n, err)
	}
}

func secretAuth(name string) v1alpha1.TriggerAuthenticationSpec {
	return v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
		{Parameter: "username", Name: name, Key: "username"}, {Parameter: "password", Name: name, Key: "password"},
	}}
}
