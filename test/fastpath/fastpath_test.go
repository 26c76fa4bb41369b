package fastpath

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
	"ebb.dev/test/servers/rabbitmq"
	"ebb.dev/test/stack"
)

// ebbBinary is built once for the package by TestMain.
var ebbBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ebb-fastpath-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ebbBinary, err = stack.Build(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// holdFor spans at least two HPA syncs (15 s apart) after a count is reached.
const holdFor = 35 * time.Second

var scaledObjects = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// env is what the scenarios share: one control plane with the real HPA, one ebb, one broker.
type env struct {
	kube    kubernetes.Interface
	dynamic dynamic.Interface
	ebb     *stack.Stack
	broker  *rabbitmq.Server
}

// TestFastScaleUp: a burst takes a consumer to the HPA's count at once, and the HPA, reading
// the same metric, keeps that count over two syncs and more: for an AverageValue target (the
// issue's scenario, timed), a Value target (multiplied by the ready pods), scalingModifiers,
// and with the annotation off, the HPA's own pace.
func TestFastScaleUp(t *testing.T) {
	broker := rabbitmq.StartT(t, rabbitmq.Options{})
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	clustertest.InstallKEDACRDs(t, c)
	e := &env{kube: kubernetes.NewForConfigOrDie(c.RESTConfig), dynamic: dynamic.NewForConfigOrDie(c.RESTConfig), broker: broker}
	e.namespace(t, "ebb-system") // the actuator's Lease
	s, err := stack.Start(t.Context(), stack.Config{EBB: ebbBinary, Dir: t.TempDir(), Cluster: c})
	if err != nil {
		t.Fatal(err)
	}
	e.ebb = s
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range s.Names() {
				t.Logf("--- %s log (last 4 KiB)\n%s", name, tail(s.Log(name), 4096))
			}
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop ebb: %v", err)
		}
	})
	for name, run := range map[string]func(*testing.T, *env){
		"AverageValue: 0 to 20 at once, kept by the HPA":               averageValue,
		"Value: times the ready pods, kept by the HPA":                 valueTarget,
		"scalingModifiers: the composite's count, kept by the HPA":     modifiers,
		"annotation false: activation to 1, then the HPA's own growth": off,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, e)
		})
	}
}

func averageValue(t *testing.T, e *env) {
	q := e.scenario(t, "average", 0, nil, map[string]any{"maxReplicaCount": int64(30)},
		map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"})
	burst := q.publish(t, 100)
	at := q.replicas.waitFor(t, 20, 30*time.Second)
	t.Logf("fast path: 100 messages at 5 per replica, 0 → 20 replicas %s after the burst was confirmed (pollingInterval 1 s)", at.Sub(burst).Round(time.Millisecond))
	if at.Sub(burst) > 5*time.Second {
		t.Errorf("0 → 20 took %s after the burst, want a poll and a decision away (well under 5 s)", at.Sub(burst))
	}
	q.holds(t, e, 20, at)
	q.tapShows(t, e, "fast-path")
}

// valueTarget: 2 ready pods, 15 messages at a Value target of 5: the HPA wants ratio 3 × 2
// ready pods = 6, and so does ebb. The new pods never become ready (they would be starting),
// so a fast path that multiplied by spec.replicas instead would run on to 18 and 30.
func valueTarget(t *testing.T, e *env) {
	q := e.scenario(t, "value", 2, nil, map[string]any{"minReplicaCount": int64(2), "maxReplicaCount": int64(30)},
		map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"}, "Value")
	e.markReady(t, q.ns, q.name, 2)
	e.waitForHPA(t, q.ns, q.name)
	q.publish(t, 15)
	at := q.replicas.waitFor(t, 6, 30*time.Second)
	q.holds(t, e, 6, at)
	q.tapShows(t, e, "fast-path")
}

func modifiers(t *testing.T, e *env) {
	q := e.scenario(t, "modifiers", 0, nil, map[string]any{
		"maxReplicaCount": int64(30),
		"advanced": map[string]any{"scalingModifiers": map[string]any{
			"formula": "orders * 2", "target": "10", "activationTarget": "1",
		}},
	}, map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"})
	burst := q.publish(t, 100)
	at := q.replicas.waitFor(t, 20, 30*time.Second)
	t.Logf("fast path with scalingModifiers: 0 → 20 replicas %s after the burst", at.Sub(burst).Round(time.Millisecond))
	q.holds(t, e, 20, at)
	q.tapShows(t, e, "fast-path")
}

// off: with the fast path off ebb activates to 1 and leaves the rest to the HPA, whose first
// step from 1 is max(2 × 1, 4) = 4, not 20.
func off(t *testing.T, e *env) {
	q := e.scenario(t, "off", 0, map[string]string{v1alpha1.FastScaleUpAnnotation: "false"},
		map[string]any{"maxReplicaCount": int64(30)},
		map[string]any{"queueName": "orders", "mode": "QueueLength", "value": "5"})
	q.publish(t, 100)
	at := q.replicas.waitFor(t, 1, 30*time.Second)
	next := q.replicas.firstAfter(t, at, 1, 40*time.Second)
	if next != 4 {
		t.Errorf("after activation the count went to %d, want the HPA's first step of 4", next)
	}
	out := q.tap(t, e)
	if strings.Contains(out, "fast-path") {
		t.Errorf("ebb tap shows a fast-path step with the fast path off:\n%s", out)
	}
}

// queue is one scenario: a namespace with a RabbitMQ vhost and queue, a Deployment, its
// ScaledObject, and a watch on the Deployment's replicas.
type queue struct {
	ns, name, url string
	replicas      *timeline
}

// scenario sets up namespace ns: vhost ns with queue orders, a Deployment "consumer" at
// replicas, and a ScaledObject (pollingInterval 1, cooldownPeriod 10) with spec fields and
// one rabbitmq trigger named orders with metadata (and metricType, when given).
func (e *env) scenario(t *testing.T, ns string, replicas int32, annotations map[string]string, spec, metadata map[string]any, metricType ...string) *queue {
	t.Helper()
	ctx := t.Context()
	for _, err := range []error{e.broker.AddVhost(ctx, ns), e.broker.Permit(ctx, ns, "guest"), e.broker.DeclareQueue(ctx, ns, "orders")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	q := &queue{ns: ns, name: "consumer", url: e.broker.AMQPURL("guest", "guest", ns)}
	e.namespace(t, ns)
	e.deployment(t, ns, q.name, replicas)
	q.replicas = e.watchReplicas(t, ns, q.name)
	md := map[string]any{"host": q.url}
	for k, v := range metadata {
		md[k] = v
	}
	trig := map[string]any{"type": "rabbitmq", "name": "orders", "metadata": md}
	if len(metricType) > 0 {
		trig["metricType"] = metricType[0]
	}
	full := map[string]any{"scaleTargetRef": map[string]any{"name": q.name}, "pollingInterval": int64(1), "cooldownPeriod": int64(10), "triggers": []any{trig}}
	for k, v := range spec {
		full[k] = v
	}
	meta := map[string]any{"name": q.name, "namespace": ns}
	if annotations != nil {
		a := map[string]any{}
		for k, v := range annotations {
			a[k] = v
		}
		meta["annotations"] = a
	}
	so := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": meta, "spec": full}}
	if _, err := e.dynamic.Resource(scaledObjects).Namespace(ns).Create(ctx, so, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return q
}

// holds checks that the count stays want from at over two HPA syncs and more, and that the
// HPA itself computed want: it neither undid nor overshot the fast path's step.
func (q *queue) holds(t *testing.T, e *env, want int32, at time.Time) {
	t.Helper()
	time.Sleep(time.Until(at.Add(holdFor)))
	if got := q.replicas.since(at); len(got) != 1 || got[0] != want {
		t.Errorf("replicas from %s on: %v, want %d throughout", at.Format(time.StampMilli), got, want)
	}
	hpa, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(q.ns).Get(t.Context(), v1alpha1.DefaultHPANamePrefix+q.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hpa.Status.DesiredReplicas != want || hpa.Status.CurrentReplicas != want {
		t.Errorf("HPA status: desired %d, current %d, want %d both (metrics %+v, conditions %+v)",
			hpa.Status.DesiredReplicas, hpa.Status.CurrentReplicas, want, hpa.Status.CurrentMetrics, hpa.Status.Conditions)
	}
	for _, c := range hpa.Status.Conditions {
		if c.Type == "ScalingActive" && c.Status != corev1.ConditionTrue {
			t.Errorf("HPA ScalingActive is %s (%s): it did not read the metric", c.Status, c.Message)
		}
	}
}

func (q *queue) tap(t *testing.T, e *env) string {
	t.Helper()
	out, err := e.ebb.Tap(t.Context(), "-namespace", q.ns, "-name", q.name)
	if err != nil {
		t.Fatalf("ebb tap: %v\n%s", err, out)
	}
	return out
}

func (q *queue) tapShows(t *testing.T, e *env, want string) {
	t.Helper()
	if out := q.tap(t, e); !strings.Contains(out, want) {
		t.Errorf("ebb tap shows no %q:\n%s", want, out)
	}
}

// publish sends n persistent messages in one burst and returns when the broker has confirmed
// them all, so the queue holds them.
func (q *queue) publish(t *testing.T, n int) time.Time {
	t.Helper()
	conn, err := amqp.Dial(q.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	confirms := make([]*amqp.DeferredConfirmation, n)
	for i := range n {
		if confirms[i], err = ch.PublishWithDeferredConfirmWithContext(ctx, "", "orders", false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "order %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range confirms {
		if ok, err := c.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("message %d not confirmed: %v", i, err)
		}
	}
	return time.Now()
}

func (e *env) namespace(t *testing.T, name string) {
	t.Helper()
	if _, err := e.kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deployment creates a Deployment whose pods never run (no kubelet here).
func (e *env) deployment(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/consumer:1"}}},
			},
		},
	}
	if _, err := e.kube.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// markReady does a kubelet's part for the first n pods of the Deployment: Running and Ready,
// through the status subresource, and waits until the Deployment counts them ready, which is
// what both the HPA and ebb multiply a Value target by.
func (e *env) markReady(t *testing.T, ns, name string, n int) {
	t.Helper()
	ctx := t.Context()
	var pods []corev1.Pod
	poll(t, 30*time.Second, fmt.Sprintf("%d pods of %s/%s", n, ns, name), func() bool {
		list, err := e.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		pods = nil
		if err == nil {
			pods = list.Items
		}
		return len(pods) >= n
	})
	now := metav1.Now()
	for i := range pods[:n] {
		p := &pods[i]
		p.Status.Phase = corev1.PodRunning
		p.Status.StartTime = &now
		p.Status.Conditions = append(p.Status.Conditions,
			corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now})
		if _, err := e.kube.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("mark pod %s ready: %v", p.Name, err)
		}
	}
	poll(t, 30*time.Second, fmt.Sprintf("%s/%s to count %d ready pods", ns, name, n), func() bool {
		d, err := e.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == int32(n)
	})
}

// waitForHPA waits until the HPA has read the metric once: from then on it syncs every 15 s.
func (e *env) waitForHPA(t *testing.T, ns, name string) {
	t.Helper()
	poll(t, 60*time.Second, "the HPA of "+ns+"/"+name+" to read its metric", func() bool {
		hpa, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(t.Context(), v1alpha1.DefaultHPANamePrefix+name, metav1.GetOptions{})
		return err == nil && len(hpa.Status.CurrentMetrics) > 0
	})
}

// timeline records every spec.replicas a Deployment goes through, stamped when the watch
// delivered it.
type timeline struct {
	mu     sync.Mutex
	at     []time.Time
	counts []int32
}

func (e *env) watchReplicas(t *testing.T, ns, name string) *timeline {
	t.Helper()
	tl := &timeline{}
	ctx := t.Context()
	w, err := e.kube.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	go func() {
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && d.Spec.Replicas != nil {
				tl.add(time.Now(), *d.Spec.Replicas)
			}
		}
	}()
	return tl
}

func (tl *timeline) add(at time.Time, n int32) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if len(tl.counts) > 0 && tl.counts[len(tl.counts)-1] == n {
		return
	}
	tl.at, tl.counts = append(tl.at, at), append(tl.counts, n)
}

// waitFor returns when the count first became want.
func (tl *timeline) waitFor(t *testing.T, want int32, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	poll(t, timeout, fmt.Sprintf("%d replicas (seen %v)", want, tl.since(time.Time{})), func() bool {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		for i, n := range tl.counts {
			if n == want {
				at = tl.at[i]
				return true
			}
		}
		return false
	})
	return at
}

// firstAfter returns the first count after at other than from.
func (tl *timeline) firstAfter(t *testing.T, at time.Time, from int32, timeout time.Duration) int32 {
	t.Helper()
	var next int32
	poll(t, timeout, fmt.Sprintf("a count other than %d", from), func() bool {
		for _, n := range tl.since(at) {
			if n != from {
				next = n
				return true
			}
		}
		return false
	})
	return next
}

// since lists the counts from at on: the one current at at, then every later one.
func (tl *timeline) since(at time.Time) []int32 {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []int32
	for i, n := range tl.counts {
		if !tl.at[i].After(at) && i+1 < len(tl.counts) && !tl.at[i+1].After(at) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
