package poller_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go/jetstream"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/pollertest"
	"ebb.dev/services/poller/resolve/resolvetest"
)

const ns = "shop"

// queues is a source whose value for a rabbitmq trigger is looked up by queue name; a queue
// it lacks fails the read, and a password other than the one set fails it too.
type queues struct {
	mu       sync.Mutex
	values   map[string]float64
	password string
}

func (q *queues) set(queue string, v float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.values[queue] = v
}

func (q *queues) source() *pollertest.Source {
	return &pollertest.Source{Types: []string{"rabbitmq", "kafka"}, Value: func(ctx context.Context, _ string, m trigger.Metadata) (float64, error) {
		r := m.(trigger.RabbitMQ)
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.password != "" && r.Password != q.password {
			return 0, errors.New("login refused for password " + r.Password) // a careless scaler
		}
		if r.QueueName == "slow" {
			q.mu.Unlock()
			<-ctx.Done()
			q.mu.Lock()
			return 0, ctx.Err()
		}
		v, ok := q.values[r.QueueName]
		if !ok {
			return 0, errors.New("queue " + r.QueueName + " not found")
		}
		return v, nil
	}}
}

type env struct {
	bus     *bustest.Bus
	cluster *resolvetest.Cluster
	queues  *queues
	rec     *pollertest.Recorder
}

func newEnv(t *testing.T) *env {
	b := bustest.Start(t, func(c *bus.Config) { c.PollerTTL = 2 * time.Second })
	return &env{
		bus: b, cluster: &resolvetest.Cluster{}, queues: &queues{values: map[string]float64{}},
		rec: pollertest.Record(t, b.Connect(t, bus.RoleTap)),
	}
}

// start runs one replica until the test ends.
func (e *env) start(t *testing.T, id string) *poller.Replica {
	t.Helper()
	return e.startWith(t, id, e.queues.source())
}

// startWith runs one replica reading through scalers until the test ends.
func (e *env) startWith(t *testing.T, id string, scalers poller.Builder) *poller.Replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	deps := poller.Deps{Bus: e.bus.Connect(t, bus.RolePoller), Scalers: scalers, Log: bustest.Logger(t)}
	r, err := poller.Start(ctx, poller.Config{ID: id, Timeout: time.Second}, deps, e.cluster.Resolver("ebb-system"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); r.Wait() })
	return r
}

func rabbit(queue string, md ...string) v1alpha1.ScaleTriggers {
	m := map[string]string{"queueName": queue, "host": "http://mq:15672", "value": "20", "activationValue": "5"}
	for i := 0; i+1 < len(md); i += 2 {
		m[md[i]] = md[i+1]
	}
	return v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: m}
}

func scaledObject(name string, generation int64, interval int32, triggers ...v1alpha1.ScaleTriggers) *v1alpha1.ScaledObject {
	return &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Generation: generation},
		Spec: v1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &v1alpha1.ScaleTarget{Name: name}, PollingInterval: &interval, Triggers: triggers,
		},
	}
}

func key(name string, kind msg.Kind, i int) string {
	return msg.ReadingKey(msg.ObjectRef{Namespace: ns, Kind: kind, Name: name}, i)
}

func TestReadings(t *testing.T) {
	e := newEnv(t)
	e.queues.set("busy", 7)
	e.queues.set("quiet", 5)
	e.cluster.PutTriggerAuthentication(ns, "gone-secret", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "absent", Key: "password"}},
	})
	// The database name comes from a Secret: the metric keeps to what the metadata says, as the
	// HPA the actuator builds does, so the two names match.
	e.cluster.PutSecret(ns, "mysql", map[string]string{"dbName": "orders-db", "password": "pw"})
	e.cluster.PutTriggerAuthentication(ns, "mysql", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "dbName", Name: "mysql", Key: "dbName"}, {Parameter: "password", Name: "mysql", Key: "password"}},
	})
	mysql := v1alpha1.ScaleTriggers{Type: "mysql", AuthenticationRef: &v1alpha1.AuthenticationRef{Name: "mysql"},
		Metadata: map[string]string{"host": "db", "port": "3306", "username": "app", "query": "select 1", "queryValue": "3"}}
	p := e.start(t, "p0")
	withAuth := rabbit("busy")
	withAuth.AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "gone-secret"}
	cpu := v1alpha1.ScaleTriggers{Type: "cpu", Metadata: map[string]string{"value": "50"}, MetricType: "Utilization"}
	so := scaledObject("orders", 3, 1,
		rabbit("busy"), rabbit("quiet"), cpu, rabbit("missing"), withAuth, rabbit("busy", "mode", "Nope"),
		rabbit("busy", "value", "4"), v1alpha1.ScaleTriggers{Type: "prometheus", Metadata: map[string]string{"serverAddress": "http://prom", "query": "up", "threshold": "2"}},
		mysql)
	so.Spec.Triggers[1].MetricType = "Value"
	so.Spec.Triggers[1].Name = "quiet-one"
	p.Set(t.Context(), so)

	ref := msg.ObjectRef{Namespace: ns, Kind: msg.ScaledObject, Name: "orders", UID: "uid-orders", Generation: 3}
	reading := func(i int, metric string, value float64, active bool, typ msg.MetricType, target float64, err string) msg.Reading {
		return msg.Reading{
			Schema: msg.ReadingSchema, Object: ref, Poller: "p0", Value: value, Active: active, Error: err,
			Trigger: msg.TriggerRef{Index: i, Type: so.Spec.Triggers[i].Type, Name: so.Spec.Triggers[i].Name, MetricName: metric},
			Target:  msg.Target{Type: typ, Value: target},
		}
	}
	want := map[int]msg.Reading{
		0: reading(0, "s0-rabbitmq-busy", 7, true, msg.AverageValue, 20, ""),
		1: reading(1, "s1-rabbitmq-quiet", 5, false, msg.Value, 20, ""), // 5 is not above the activation 5
		3: reading(3, "s3-rabbitmq-missing", 0, false, msg.AverageValue, 20, "queue missing not found"),
		4: reading(4, "s4-rabbitmq", 0, false, msg.AverageValue, 0,
			`spec.triggers[4].authenticationRef: TriggerAuthentication "gone-secret": spec.secretTargetRef[0]: secret shop/absent not found`),
		5: reading(5, "s5-rabbitmq", 0, false, msg.AverageValue, 0,
			`spec.triggers[5].metadata.mode: Unsupported value: "Nope": supported values: "QueueLength", "MessageRate"`),
		6: reading(6, "s6-rabbitmq-busy", 7, true, msg.AverageValue, 4, ""),
		7: reading(7, "s7-prometheus", 0, false, msg.AverageValue, 2, "no scaler for trigger type prometheus"),
		8: reading(8, "s8-mysql", 0, false, msg.AverageValue, 3, "no scaler for trigger type mysql"),
	}
	e.rec.Wait(t, "a reading of every polled trigger", 5*time.Second, func(all map[string][]msg.Reading) bool {
		for i := range want {
			if len(all[key("orders", msg.ScaledObject, i)]) == 0 {
				return false
			}
		}
		return true
	})
	for i, w := range want {
		got, _ := e.rec.Last(key("orders", msg.ScaledObject, i))
		if got.ObservedAt.IsZero() {
			t.Errorf("trigger %d: observedAt not set", i)
		}
		if diff := cmp.Diff(w, got, cmpopts.IgnoreFields(msg.Reading{}, "ObservedAt")); diff != "" {
			t.Errorf("trigger %d reading (-want +got):\n%s", i, diff)
		}
	}
	if rs := e.rec.Readings(key("orders", msg.ScaledObject, 2)); len(rs) != 0 {
		t.Errorf("the cpu trigger was polled: %v", rs)
	}
}

func TestSpecChangeTakesEffectAtTheNextPoll(t *testing.T) {
	e := newEnv(t)
	e.queues.set("a", 1)
	e.queues.set("b", 2)
	p := e.start(t, "p0")
	p.Set(t.Context(), scaledObject("app", 1, 1, rabbit("a"), rabbit("a")))
	k0, k1 := key("app", msg.ScaledObject, 0), key("app", msg.ScaledObject, 1)
	e.rec.Wait(t, "first readings", 5*time.Second, func(all map[string][]msg.Reading) bool {
		return len(all[k0]) > 0 && len(all[k1]) > 0
	})
	changed := time.Now()
	p.Set(t.Context(), scaledObject("app", 2, 1, rabbit("b"), rabbit("a")))
	e.rec.Wait(t, "a reading of generation 2 with the new queue", 3*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k0)
		return r.Object.Generation == 2 && r.Value == 2 && r.Trigger.MetricName == "s0-rabbitmq-b"
	})
	for _, r := range e.rec.Readings(k0) {
		if r.Object.Generation == 1 && r.ObservedAt.After(changed.Add(100*time.Millisecond)) {
			t.Errorf("a generation 1 reading observed %v after the change", r.ObservedAt.Sub(changed))
		}
	}

	t.Run("a removed trigger stops and loses its last reading", func(t *testing.T) {
		p.Set(t.Context(), scaledObject("app", 3, 1, rabbit("b")))
		assertStopped(t, e, k1)
	})
	t.Run("a deleted object stops at once and loses its last readings", func(t *testing.T) {
		p.Delete(scaledObject("app", 3, 1))
		assertStopped(t, e, k0)
		if n := p.Polling(); n != 0 {
			t.Errorf("still polling %d triggers", n)
		}
	})
}

// assertStopped checks that key gets no reading after a short while and that its last
// reading was deleted from the readings bucket.
func assertStopped(t *testing.T, e *env, key string) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // a poll in flight may still land
	before := len(e.rec.Readings(key))
	readings, err := e.bus.ConnectInProcess(t, bus.RoleAdmin).Readings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := readings.Get(t.Context(), key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last reading of %s still stored: %v", key, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // more than an interval
	if after := len(e.rec.Readings(key)); after != before {
		t.Errorf("%s got %d readings after it stopped", key, after-before)
	}
}

func TestRotatedSecretTakesEffectWithoutRestart(t *testing.T) {
	e := newEnv(t)
	e.queues.set("orders", 12)
	e.queues.password = "right-password"
	e.cluster.PutSecret(ns, "mq", map[string]string{"username": "app", "password": "wrong-password"})
	e.cluster.PutTriggerAuthentication(ns, "mq", v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
			{Parameter: "username", Name: "mq", Key: "username"}, {Parameter: "password", Name: "mq", Key: "password"},
		},
	})
	p := e.start(t, "p0")
	tr := rabbit("orders")
	tr.AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "mq"}
	p.Set(t.Context(), scaledObject("app", 1, 1, tr))
	k := key("app", msg.ScaledObject, 0)
	e.rec.Wait(t, "two failed readings", 5*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) >= 2 })
	for _, r := range e.rec.Readings(k) {
		if r.Error == "" || r.Value != 0 {
			t.Errorf("with the wrong password: value %v, error %q; want an error and no value", r.Value, r.Error)
		}
		if strings.Contains(r.Error, "wrong-password") {
			t.Errorf("the password reached the bus in an error: %q", r.Error)
		}
	}
	e.cluster.PutSecret(ns, "mq", map[string]string{"username": "app", "password": "right-password"})
	e.rec.Wait(t, "a good reading after the Secret was fixed", 3*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k)
		return r.Error == "" && r.Value == 12
	})
}

func TestSlowSourceDelaysNoOtherTrigger(t *testing.T) {
	e := newEnv(t)
	e.queues.set("fast", 1)
	p := e.start(t, "p0")
	p.Set(t.Context(), scaledObject("slow", 1, 1, rabbit("slow")))
	p.Set(t.Context(), scaledObject("fast", 1, 1, rabbit("fast")))
	fast, slow := key("fast", msg.ScaledObject, 0), key("slow", msg.ScaledObject, 0)
	e.rec.Wait(t, "readings of both", 6*time.Second, func(all map[string][]msg.Reading) bool {
		return len(all[fast]) >= 4 && len(all[slow]) >= 1
	})
	rs := e.rec.Readings(fast)
	for i := 1; i < len(rs); i++ {
		if gap := rs[i].ObservedAt.Sub(rs[i-1].ObservedAt); gap > 1500*time.Millisecond {
			t.Errorf("fast trigger waited %v between readings (interval 1 s)", gap)
		}
	}
	r, _ := e.rec.Last(slow)
	if !strings.Contains(r.Error, "context deadline exceeded") {
		t.Errorf("slow trigger's reading error = %q, want the poll timeout", r.Error)
	}
}

func TestScaledJobTriggers(t *testing.T) {
	e := newEnv(t)
	e.queues.set("jobs", 3)
	p := e.start(t, "p0")
	interval := int32(1)
	sj := &v1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "batch", UID: "uid-batch", Generation: 1},
		Spec: v1alpha1.ScaledJobSpec{
			PollingInterval: &interval,
			JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "job", Env: []corev1.EnvVar{{Name: "HOST", Value: "http://mq:15672"}}}},
			}}},
			Triggers: []v1alpha1.ScaleTriggers{rabbit("jobs", "hostFromEnv", "HOST", "host", "")},
		},
	}
	p.Set(t.Context(), sj)
	k := key("batch", msg.ScaledJob, 0)
	e.rec.Wait(t, "a ScaledJob reading", 5*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) > 0 })
	if r, _ := e.rec.Last(k); r.Error != "" || r.Value != 3 || r.Object.Kind != msg.ScaledJob {
		t.Errorf("reading = %+v, want value 3 of a ScaledJob", r)
	}
}
