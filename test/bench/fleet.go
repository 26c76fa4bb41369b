package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"ebb.dev/bus"
	"ebb.dev/schemas/keda/v1alpha1"
)

const (
	// fleetNamespace holds the fleet's Deployments and ScaledObjects.
	fleetNamespace = "fleet"
	// fleetInterval is every fleet object's pollingInterval.
	fleetInterval = 30 * time.Second
	// createWorkers is how many creations are in flight at once.
	createWorkers = 32
)

// fleet is many ScaledObjects, each with its own Deployment at 0 replicas and one
// metrics-api trigger on a loopback source, run by ebb on a local control plane without
// kube-controller-manager: the Deployments never get pods, and the actuator creates no HPAs
// (-manage-hpa=false), so the control plane spends nothing on them beyond storing them.
type fleet struct {
	*platform
	source *metricSource
	rec    *recorder
	tap    *bus.Conn
	// bulk creates without client-side throttling; concurrency bounds it instead.
	bulkKube    kubernetes.Interface
	bulkDynamic dynamic.Interface
	size        int // objects created so far, named fleet-0 … fleet-<size-1>
}

// fleetOptions say what a fleet runs beyond one process of each service.
type fleetOptions struct {
	// Flags per process name, added to the fleet's own.
	Flags map[string][]string
}

// startFleet starts the control plane, ebb and the source; the fleet is empty until grow.
func startFleet(ctx context.Context, env Env, opts fleetOptions) (f *fleet, err error) {
	f = &fleet{platform: &platform{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.stop())
		}
	}()
	if f.source, err = startMetricSource(); err != nil {
		return f, err
	}
	p, err := startPlatform(ctx, env, platformOptions{Flags: opts.Flags, WithoutHPA: true})
	if err != nil {
		return f, err // startPlatform stopped what it started
	}
	f.platform = p
	bulk := rest.CopyConfig(f.cluster.RESTConfig)
	bulk.QPS = -1 // no rate limiter
	f.bulkKube, f.bulkDynamic = kubernetes.NewForConfigOrDie(bulk), dynamic.NewForConfigOrDie(bulk)
	if err := f.namespace(ctx, fleetNamespace); err != nil {
		return f, err
	}
	if f.tap, err = f.ebb.Connect(ctx, bus.RoleTap); err != nil {
		return f, err
	}
	f.rec, err = record(ctx, f.tap)
	return f, err
}

// grow creates objects until the fleet has n: all the Deployments first, then the
// ScaledObjects. It returns how long each half took.
func (f *fleet) grow(ctx context.Context, n int) (deployments, objects time.Duration, err error) {
	from := f.size
	started := time.Now()
	if err := parallel(ctx, from, n, func(ctx context.Context, i int) error {
		_, err := f.bulkKube.AppsV1().Deployments(fleetNamespace).Create(ctx, deploymentAtZero(fleetNamespace, fleetName(i)), metav1.CreateOptions{})
		return ignoreExists(err)
	}); err != nil {
		return 0, 0, fmt.Errorf("create deployments: %w", err)
	}
	deployments = time.Since(started)
	started = time.Now()
	if err := parallel(ctx, from, n, func(ctx context.Context, i int) error {
		_, err := f.bulkDynamic.Resource(scaledObjects).Namespace(fleetNamespace).Create(ctx, f.scaledObject(i), metav1.CreateOptions{})
		return ignoreExists(err)
	}); err != nil {
		return 0, 0, fmt.Errorf("create scaled objects: %w", err)
	}
	f.size = n
	return deployments, time.Since(started), nil
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// parallel runs do for every i in [from, to) with createWorkers at once, and returns the
// first error.
func parallel(ctx context.Context, from, to int, do func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range createWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < to && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := do(ctx, i); err != nil {
					cancel(fmt.Errorf("object %d: %w", i, err))
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func fleetName(i int) string { return "fleet-" + strconv.Itoa(i) }

// scaledObject is object i: one metrics-api trigger on the fleet's source.
func (f *fleet) scaledObject(i int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": fleetName(i), "namespace": fleetNamespace},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": fleetName(i)},
			"pollingInterval": int64(fleetInterval / time.Second),
			"triggers": []any{map[string]any{"type": "metrics-api", "metadata": map[string]any{
				"url": f.source.urlOf(fleetName(i)), "valueLocation": "value",
				"targetValue": strconv.Itoa(fleetTarget), "activationTargetValue": strconv.Itoa(fleetActivation),
			}}},
		},
	}}
}

// settle waits until every object has been read and decided, as the bus shows, and the
// actuator has reconciled each (Ready) and applied a decision to it (Active known). It
// returns how long that took.
func (f *fleet) settle(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	started := time.Now()
	deadline := started.Add(timeout)
	for {
		read, decided := f.rec.seen()
		reconciled, err := f.reconciled(ctx)
		if err == nil && read >= f.size && decided >= f.size && reconciled >= f.size {
			return time.Since(started), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("fleet of %d not settled within %s: %d read, %d decided, %d reconciled (list error: %v)",
				f.size, timeout, read, decided, reconciled, err)
		}
		if err := sleep(ctx, 5*time.Second); err != nil {
			return 0, err
		}
	}
}

// reconciled counts the fleet's ScaledObjects that are Ready with an Active condition that
// is no longer Unknown, listing them a page at a time.
func (f *fleet) reconciled(ctx context.Context) (int, error) {
	n, cont := 0, ""
	for {
		list, err := f.dynamic.Resource(scaledObjects).Namespace(fleetNamespace).List(ctx, metav1.ListOptions{Limit: 1000, Continue: cont})
		if err != nil {
			return n, err
		}
		for _, so := range list.Items {
			if condition(so, v1alpha1.ConditionReady) == "True" && condition(so, v1alpha1.ConditionActive) != "Unknown" &&
				condition(so, v1alpha1.ConditionActive) != "" {
				n++
			}
		}
		if cont = list.GetContinue(); cont == "" {
			return n, nil
		}
	}
}

// condition is the status of condition t of an unstructured object ("" when absent).
func condition(obj unstructured.Unstructured, t v1alpha1.ConditionType) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == string(t) {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// pids are the process IDs of the named processes.
func (f *fleet) pids(names ...string) (map[string]int, error) {
	out := map[string]int{}
	for _, n := range names {
		pid := f.ebb.PID(n)
		if pid == 0 {
			return nil, fmt.Errorf("no process %s", n)
		}
		out[n] = pid
	}
	return out, nil
}

// hpas counts the HPAs in the fleet's namespace: none, with -manage-hpa=false.
func (f *fleet) hpas(ctx context.Context) (int, error) {
	l, err := f.kube.AutoscalingV2().HorizontalPodAutoscalers(fleetNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	return len(l.Items), nil
}

func (f *fleet) stop() error {
	var errs []error
	if f.rec != nil {
		f.rec.stop()
	}
	if f.tap != nil {
		f.tap.Close()
	}
	errs = append(errs, f.platform.stop())
	if f.source != nil {
		errs = append(errs, f.source.stop())
	}
	return errors.Join(errs...)
}
