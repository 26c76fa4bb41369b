package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"ebb.dev/schemas/trigger"
)

// fleetServices are the processes whose cost the scale scenario reports, the bus last.
var fleetServices = []string{"poller", "decider", "actuator", "metrics-api", "bus"}

// Scale measures what ebb costs at 1,000 and then 10,000 ScaledObjects (one metrics-api
// trigger each, pollingInterval 30 s): CPU and memory per service over a steady window,
// readings and decisions per second, reading→decision latency, and metrics-api's latency
// through the API server's aggregation layer.
func Scale() Scenario {
	return Scenario{Name: "scale", Run: runScale}
}

// scalePlan is what a run measures.
type scalePlan struct {
	sizes       []int
	window      time.Duration // steady window per size
	sample      time.Duration // CPU sampling step inside it
	requests    int           // external metric requests through the aggregator
	concurrency int
}

func planScale(env Env) scalePlan {
	if env.Quick {
		return scalePlan{sizes: []int{1000}, window: 45 * time.Second, sample: 5 * time.Second, requests: 500, concurrency: 4}
	}
	return scalePlan{sizes: []int{1000, 10000}, window: 2 * time.Minute, sample: 10 * time.Second, requests: 2000, concurrency: 4}
}

// scaleStep is one size's measurements.
type scaleStep struct {
	size                 int
	deployments, objects time.Duration // creation
	settled              time.Duration
	usage                map[string]usage
	win                  window
	sourceRequests       int64 // GETs the source answered during the window
	aggregator           []time.Duration
	hpas                 int
	aggregatorErr        error
	load                 float64 // the machine's load average at the window's end
	// runtime is each Go service's own account of its memory at the window's end (the bus
	// serves none); runtimeErr says why one is missing.
	runtime    map[string]goRuntime
	runtimeErr []error
}

func runScale(ctx context.Context, env Env) (Section, error) {
	plan := planScale(env)
	f, err := startFleet(ctx, env, fleetOptions{})
	if err != nil {
		return scaleSection(env, plan, nil, inProcessMetrics{}), err
	}
	defer func() {
		if err := f.stop(); err != nil {
			env.Log.Warn("stop fleet", "error", err)
		}
	}()
	var steps []scaleStep
	for _, n := range plan.sizes {
		st, err := measureScale(ctx, env, f, n, plan)
		if err != nil {
			return scaleSection(env, plan, steps, inProcessMetrics{}), fmt.Errorf("%d objects: %w", n, err)
		}
		steps = append(steps, st)
	}
	in := metricsAPIInProcess(ctx, env)
	return scaleSection(env, plan, steps, in), nil
}

// measureScale grows the fleet to n, waits for it to settle, then measures.
func measureScale(ctx context.Context, env Env, f *fleet, n int, plan scalePlan) (st scaleStep, err error) {
	st.size = n
	env.Log.Info("creating objects", "objects", n)
	if st.deployments, st.objects, err = f.grow(ctx, n); err != nil {
		return st, err
	}
	env.Log.Info("created; waiting for the fleet to settle", "objects", n, "deployments", st.deployments, "scaledObjects", st.objects)
	if st.settled, err = f.settle(ctx, 3*time.Minute+time.Duration(n)*60*time.Millisecond); err != nil {
		return st, err
	}
	// The first decisions' writes (activations, status) are done once settled; a little more
	// lets the last of them leave the window.
	if err := sleep(ctx, 10*time.Second); err != nil {
		return st, err
	}
	pids, err := f.pids(fleetServices...)
	if err != nil {
		return st, err
	}
	env.Log.Info("settled; measuring", "objects", n, "settled", st.settled, "window", plan.window)
	before := f.source.requests.Load()
	f.rec.open()
	st.usage, err = meter(ctx, pids, plan.window, plan.sample)
	st.win = f.rec.close()
	st.sourceRequests = f.source.requests.Load() - before
	if err != nil {
		return st, err
	}
	st.load, _ = loadAverage()
	st.runtime = map[string]goRuntime{}
	for _, name := range fleetServices[:len(fleetServices)-1] {
		g, err := scrapeGoRuntime(ctx, pids[name])
		if err != nil {
			st.runtimeErr = append(st.runtimeErr, fmt.Errorf("%s: %w", name, err))
			continue
		}
		st.runtime[name] = g
	}
	metric := trigger.MetricName(0, "metrics-api", trigger.MetricsAPI{ValueLocation: "value"})
	st.aggregator, st.aggregatorErr = externalMetricLatency(ctx, f.cluster.RESTConfig, n, metric, plan.requests, plan.concurrency)
	st.hpas, err = f.hpas(ctx)
	return st, err
}

// inProcessMetrics is metrics-api's own benchmark: GetExternalMetric with 10,000 held.
type inProcessMetrics struct {
	p50, p99 time.Duration
	err      error
}

// metricsAPIInProcess runs BenchmarkGetExternalMetric/metrics=10000 in the checkout.
func metricsAPIInProcess(ctx context.Context, env Env) inProcessMetrics {
	args := []string{"test", "-run", "^$", "-bench", "GetExternalMetric/metrics=10000$", "-count", "1"}
	if env.Quick {
		args = append(args, "-benchtime", "100ms")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "ebb.dev/services/metrics-api/provider")...)
	cmd.Dir = env.Repo
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return inProcessMetrics{err: fmt.Errorf("go test -bench GetExternalMetric: %w\n%s", err, lastLines(out.String(), 10))}
	}
	_ = os.WriteFile(filepath.Join(env.Dir, "metrics-api-bench.txt"), out.Bytes(), 0o644)
	var in inProcessMetrics
	for _, r := range ParseBench(out.String()) {
		for unit, v := range r.Metrics {
			switch name, ns, ok := durationMetric(v, unit); {
			case ok && name == "p50":
				in.p50 = time.Duration(ns)
			case ok && name == "p99":
				in.p99 = time.Duration(ns)
			}
		}
	}
	if in.p99 == 0 {
		in.err = fmt.Errorf("BenchmarkGetExternalMetric reported no p99:\n%s", lastLines(out.String(), 10))
	}
	return in
}

// total sums what the processes cost.
func total(u map[string]usage) usage {
	var t usage
	for _, x := range u {
		t.CPUPerMin += x.CPUPerMin
		t.WaitedPerMin += x.WaitedPerMin
		t.RSS += x.RSS
		t.HWM += x.HWM
		t.Anon += x.Anon
		t.PeakAnon += x.PeakAnon
	}
	return t
}
