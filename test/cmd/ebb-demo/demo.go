package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"ebb.dev/bus"
	"ebb.dev/bus/tap"
	"ebb.dev/schemas/msg"
	"ebb.dev/test/cluster"
	"ebb.dev/test/deploy"
	"ebb.dev/test/stack"
)

const (
	namespace = "demo"
	worker    = "worker"
	subject   = "jobs.new"
)

// demo is everything the demo started.
type demo struct {
	cfg     config
	cluster *cluster.Cluster
	stack   *stack.Stack
	source  *server.Server
	js      jetstream.JetStream
	nc      *nats.Conn
	kube    kubernetes.Interface
	tapConn *bus.Conn
	bursts  chan struct{}
}

func startDemo(ctx context.Context, cfg config) (*demo, error) {
	d := &demo{cfg: cfg, bursts: make(chan struct{}, 1)}
	started := time.Now()
	var err error
	d.cluster, err = cluster.Start(ctx, cluster.Config{ControllerManager: true, Dir: filepath.Join(cfg.dir, "cluster")})
	if err != nil {
		return d, err
	}
	say("control plane %s ready in %s", cluster.KubernetesVersion, time.Since(started).Round(time.Millisecond))
	if err := d.cluster.InstallCRDs(ctx, filepath.Join(cfg.repo, "deploy", "kustomize", "base", "crd", "bases")); err != nil {
		return d, err
	}
	d.kube = kubernetes.NewForConfigOrDie(d.cluster.RESTConfig)
	for _, ns := range []string{"ebb-system", namespace} {
		if _, err := d.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return d, err
		}
	}
	objs, err := deploy.Objects(filepath.Join(cfg.repo, "deploy", "kustomize"), "default")
	if err != nil {
		return d, fmt.Errorf("render deploy/kustomize/overlays/default: %w", err)
	}
	say("starting the bus and the services, with the arguments deploy/kustomize gives them…")
	d.stack, err = stack.Start(ctx, stack.Config{
		EBB: cfg.ebb, Dir: cfg.dir, Cluster: d.cluster,
		Args: func(service string) ([]string, error) { return deploy.ContainerArgs(objs, service) },
	})
	if err != nil {
		return d, err
	}
	if err := d.startSource(ctx); err != nil {
		return d, err
	}
	if err := d.createWorkload(ctx); err != nil {
		return d, err
	}
	if d.tapConn, err = d.stack.Connect(ctx, bus.RoleTap); err != nil {
		return d, err
	}
	return d, nil
}

// startSource runs the event source: a NATS JetStream server on loopback with a work queue
// stream and the workers' consumer.
func (d *demo) startSource(ctx context.Context) error {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, HTTPHost: "127.0.0.1", HTTPPort: -1, JetStream: true,
		StoreDir: filepath.Join(d.cfg.dir, "source"), NoLog: true, NoSigs: true}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("event source: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		return errors.New("event source: nats-server not ready")
	}
	d.source = s
	if d.nc, err = nats.Connect(s.ClientURL()); err != nil {
		return err
	}
	if d.js, err = jetstream.New(d.nc); err != nil {
		return err
	}
	if _, err := d.js.CreateStream(ctx, jetstream.StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}}); err != nil {
		return err
	}
	_, err = d.js.CreateOrUpdateConsumer(ctx, "jobs", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy})
	return err
}

// createWorkload creates the worker Deployment at 0 replicas and its ScaledObject.
func (d *demo) createWorkload(ctx context.Context) error {
	labels := map[string]string{"app": worker}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: worker, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "registry.invalid/worker:1"}}},
			},
		},
	}
	if _, err := d.kube.AppsV1().Deployments(namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return err
	}
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": worker, "namespace": namespace},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": worker},
			"pollingInterval": int64(1),
			"cooldownPeriod":  int64(15),
			"maxReplicaCount": int64(20),
			"triggers": []any{map[string]any{"type": "nats-jetstream", "metadata": map[string]any{
				"natsServerMonitoringEndpoint": d.source.MonitorAddr().String(),
				"stream":                       "jobs", "consumer": "workers", "lagThreshold": "10",
			}}},
		},
	}}
	gvr := schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
	_, err := dynamic.NewForConfigOrDie(d.cluster.RESTConfig).Resource(gvr).Namespace(namespace).Create(ctx, so, metav1.CreateOptions{})
	return err
}

// explain tells the user what runs and how to poke it.
func (d *demo) explain() {
	say("ready. A worker Deployment at 0 replicas scales on the backlog of a NATS JetStream queue")
	say("(lagThreshold 10 per replica, max 20, cooldown 15 s). Poke it from another terminal:")
	fmt.Printf("           export KUBECONFIG=%s\n", d.cluster.Kubeconfig)
	fmt.Printf("           kubectl get so,hpa,deploy -n %s\n", namespace)
	fmt.Printf("           %s tap -bus-url %s -bus-password-file %s\n", d.cfg.ebb, d.stack.BusURL, d.stack.PasswordFile(bus.RoleTap))
	fmt.Printf("           logs: %s/*.log\n", d.cfg.dir)
	say("Enter sends another burst of %d messages; Ctrl-C stops everything.", d.cfg.burst)
}

// burst publishes a burst of work.
func (d *demo) burst(ctx context.Context) error {
	for i := range d.cfg.burst {
		if _, err := d.js.Publish(ctx, subject, fmt.Appendf(nil, "job %d", i)); err != nil {
			return err
		}
	}
	say("published %d messages", d.cfg.burst)
	return nil
}

// readBursts turns each line on standard input into a burst.
func (d *demo) readBursts(ctx context.Context) {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		select {
		case d.bursts <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
}

// watch shows ebb at work until ctx ends: decisions when they change, every action, and the
// replicas and backlog once a second; meanwhile the workers drain the queue.
func (d *demo) watch(ctx context.Context) {
	var mu sync.Mutex
	printer := tap.Printer{Output: tap.Text, Location: time.Local}
	var last string
	handle := func(m *nats.Msg) {
		line := printer.Line(m.Subject, m.Data)
		if dec, err := msg.DecodeAs[msg.Decision](m.Data); err == nil {
			key := fmt.Sprint(dec.Reason, dec.DesiredReplicas, dec.CurrentReplicas)
			if key == last {
				return // the same decision again, once a polling interval
			}
			last = key
		}
		mu.Lock()
		fmt.Println("  ebb ▸ " + line)
		mu.Unlock()
	}
	for _, t := range []msg.Type{msg.TypeDecision, msg.TypeAction} {
		if _, err := d.tapConn.Subscribe(ctx, d.tapConn.Prefix().All(t), handle); err != nil {
			say("tap: %v", err)
		}
	}
	go d.work(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var shown string
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.bursts:
			if err := d.burst(ctx); err != nil {
				say("burst: %v", err)
			}
		case <-tick.C:
			replicas, backlog := d.replicas(ctx), d.backlog(ctx)
			line := fmt.Sprintf("replicas %2d %-20s backlog %d", replicas, strings.Repeat("█", int(replicas)), backlog)
			if line != shown {
				mu.Lock()
				say("%s", line)
				mu.Unlock()
				shown = line
			}
		}
	}
}

// work plays the worker pods (no kubelet runs them here): every 250 ms it handles a quarter
// of perReplica messages for each replica the Deployment has.
func (d *demo) work(ctx context.Context) {
	cons, err := d.js.Consumer(ctx, "jobs", "workers")
	if err != nil {
		say("workers: %v", err)
		return
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	carry := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		carry += float64(d.replicas(ctx)*int32(d.cfg.perReplica)) / 4
		n := int(carry)
		if n == 0 {
			continue
		}
		carry -= float64(n)
		batch, err := cons.FetchNoWait(n)
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			_ = m.Ack()
		}
	}
}

func (d *demo) replicas(ctx context.Context) int32 {
	dep, err := d.kube.AppsV1().Deployments(namespace).Get(ctx, worker, metav1.GetOptions{})
	if err != nil || dep.Spec.Replicas == nil {
		return 0
	}
	return *dep.Spec.Replicas
}

func (d *demo) backlog(ctx context.Context) uint64 {
	cons, err := d.js.Consumer(ctx, "jobs", "workers")
	if err != nil {
		return 0
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0
	}
	return info.NumPending + uint64(info.NumAckPending)
}

func (d *demo) stop() {
	if d.tapConn != nil {
		d.tapConn.Close()
	}
	if d.stack != nil {
		_ = d.stack.Stop()
	}
	if d.nc != nil {
		d.nc.Close()
	}
	if d.source != nil {
		d.source.Shutdown()
	}
	if d.cluster != nil {
		_ = d.cluster.Stop()
	}
}
