package decider

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider"
	"ebb.dev/services/decider/kube"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// env is one control plane shared by the subtests, each in its own namespace with its own bus.
type env struct {
	cluster *cluster.Cluster
	kube    client.Client
}

func start(t *testing.T) *env {
	t.Helper()
	c := clustertest.Start(t, cluster.Config{})
	clustertest.InstallKEDACRDs(t, c)
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.New(c.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &env{cluster: c, kube: k}
}

// scene is one subtest: a namespace, a bus, a poller connection that publishes readings and
// the decisions seen on the bus.
type scene struct {
	*env
	t         *testing.T
	ns        string
	bus       *bustest.Bus
	poller    *bus.Conn
	decisions chan msg.Decision
}

func (e *env) scene(t *testing.T, ns string) *scene {
	t.Helper()
	if err := e.kube.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// Pods need their service account, and no controller manager creates it.
	if err := e.kube.Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	b := bustest.Start(t)
	s := &scene{env: e, t: t, ns: ns, bus: b, poller: b.Connect(t, bus.RolePoller), decisions: make(chan msg.Decision, 4096)}
	tap := b.Connect(t, bus.RoleTap)
	_, err := tap.Subscribe(t.Context(), tap.Prefix().All(msg.TypeDecision), func(m *nats.Msg) {
		d, err := msg.DecodeAs[msg.Decision](m.Data)
		if err != nil {
			t.Errorf("invalid decision on %s: %v", m.Subject, err)
			return
		}
		s.decisions <- d
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replica is a decider running for a test.
type replica struct {
	id     string
	conn   *bus.Conn
	cancel context.CancelFunc
	done   chan error
}

// run starts a decider replica; it is stopped when the test ends, if not before.
func (s *scene) run(id string, clk clock.WithTicker, cfg decider.Config) *replica {
	s.t.Helper()
	cfg.ID = id
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = time.Second
	}
	conn := s.bus.Connect(s.t, bus.RoleDecider)
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{id: id, conn: conn, cancel: cancel, done: make(chan error, 1)}
	opts := []decider.Option{decider.WithRESTConfig(s.cluster.RESTConfig), decider.WithConn(conn)}
	if clk != nil {
		opts = append(opts, decider.WithClock(clk))
	}
	log := slog.New(slog.NewTextHandler(s.t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", id)
	go func() { r.done <- decider.Run(ctx, cfg, log, opts...) }()
	s.t.Cleanup(r.stop)
	return r
}

// stop ends the replica as a rolling update does: it leaves its partitions.
func (r *replica) stop() {
	r.cancel()
	if err := <-r.done; err != nil {
		panic(fmt.Sprintf("decider %s: %v", r.id, err))
	}
	r.done <- nil // a second stop returns at once
}

// crash cuts the replica off the bus first, so it can neither publish, renew nor leave.
func (r *replica) crash() {
	r.conn.Close()
	r.stop()
}

// apply creates obj (YAML) in the scene's namespace and returns it as stored.
func (s *scene) apply(doc string, obj client.Object) {
	s.t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		s.t.Fatalf("decode %s: %v", doc, err)
	}
	obj.SetNamespace(s.ns)
	if err := s.kube.Create(s.t.Context(), obj); err != nil {
		s.t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// deployment creates a Deployment with replicas and returns it.
func (s *scene) deployment(name string, replicas int32) *appsv1.Deployment {
	s.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
			},
		},
	}
	if err := s.kube.Create(s.t.Context(), d); err != nil {
		s.t.Fatal(err)
	}
	return d
}

// scale sets a Deployment's replicas, as the actuator would.
func (s *scene) scale(name string, replicas int32) {
	s.t.Helper()
	var d appsv1.Deployment
	if err := s.kube.Get(s.t.Context(), client.ObjectKey{Namespace: s.ns, Name: name}, &d); err != nil {
		s.t.Fatal(err)
	}
	d.Spec.Replicas = ptr.To(replicas)
	if err := s.kube.Update(s.t.Context(), &d); err != nil {
		s.t.Fatal(err)
	}
}

// scaledObject creates a ScaledObject on a RabbitMQ queue at a target of 5 messages per
// replica, with extra spec lines.
func (s *scene) scaledObject(name, extra string) *v1alpha1.ScaledObject {
	s.t.Helper()
	so := &v1alpha1.ScaledObject{}
	s.apply(fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s}
spec:
  scaleTargetRef: {name: %s}
  triggers:
  - type: rabbitmq
    metadata: {hostFromEnv: URL, queueName: orders, value: "5"}
%s`, name, name, extra), so)
	return so
}

// reading publishes one reading of trigger 0 of obj: a value, or a failure when err is set.
func (s *scene) reading(obj client.Object, at time.Time, value float64, err string) {
	s.t.Helper()
	kind := msg.ScaledObject
	if _, ok := obj.(*v1alpha1.ScaledJob); ok {
		kind = msg.ScaledJob
	}
	r := msg.Reading{
		Object:  msg.ObjectRef{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName(), UID: string(obj.GetUID()), Generation: obj.GetGeneration()},
		Trigger: msg.TriggerRef{Index: 0, Type: "rabbitmq", MetricName: "s0-rabbitmq-orders"},
		Value:   value, Active: value > 0, Error: err,
		Target:     msg.Target{Type: msg.AverageValue, Value: 5},
		ObservedAt: at, Poller: "poller-0",
	}
	if err != "" {
		r.Value, r.Active = 0, false
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), 10*time.Second)
	defer cancel()
	if err := s.poller.Publish(ctx, r); err != nil {
		s.t.Fatal(err)
	}
}

// next returns the next decision about name in the scene's namespace, skipping others (every
// scene's decider sees every namespace of the shared control plane).
func (s *scene) next(name string) msg.Decision {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case d := <-s.decisions:
			if d.Object.Namespace == s.ns && d.Object.Name == name {
				return d
			}
		case <-timeout:
			s.t.Fatalf("no decision about %s within 15s", name)
		}
	}
}

// quiet fails the test if a decision about the scene's objects comes within 300 ms.
func (s *scene) quiet(when string) {
	s.t.Helper()
	silence := time.After(300 * time.Millisecond)
	for {
		select {
		case d := <-s.decisions:
			if d.Object.Namespace == s.ns {
				s.t.Fatalf("decision %s: %+v", when, outcomeOf(d))
			}
		case <-silence:
			return
		}
	}
}

// until returns the first decision about name that ok accepts.
func (s *scene) until(name string, ok func(msg.Decision) bool) msg.Decision {
	s.t.Helper()
	for {
		if d := s.next(name); ok(d) {
			return d
		}
	}
}

// fakeClock is a fake clock at t0.
func fakeClock() *clocktesting.FakeClock { return clocktesting.NewFakeClock(t0) }
