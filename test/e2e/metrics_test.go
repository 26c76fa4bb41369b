package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"ebb.dev/bus"
	"ebb.dev/services/metrics-api/provider"
	"ebb.dev/test/proc"
	"ebb.dev/test/stack"
)

// series is one sample a service's /metrics must show: the family, labels the series must
// have, and a floor its value (a histogram's count) must reach.
type series struct {
	name    string
	labels  map[string]string
	atLeast float64
}

// TestServiceMetrics runs each service with -metrics-bind-address, lets a cron trigger take a
// Deployment from zero (reading → decision → scale and HPA), asks the external metrics API
// for its value as the HPA does, and then finds each service's ebb_* series, counted, on its
// /metrics.
func TestServiceMetrics(t *testing.T) {
	ports, err := proc.FreePorts(len(stack.Services))
	if err != nil {
		t.Fatal(err)
	}
	addrs, flags := map[string]string{}, map[string][]string{}
	for i, service := range stack.Services {
		addrs[service] = "127.0.0.1:" + strconv.Itoa(ports[i])
		flags[service] = []string{"-metrics-bind-address", addrs[service]}
	}
	s := Start(t, Options{EBB: ebbBinary, Flags: flags})
	const ns, name = "metrics", "consumer"
	s.Namespace(t, ns)
	createDeployment(t, s, ns, name, 0)
	s.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"triggers": []any{map[string]any{"type": "cron", "metadata": map[string]any{
			// Active all year but the last minute of it.
			"timezone": "Etc/UTC", "start": "0 0 1 1 *", "end": "59 23 31 12 *", "desiredReplicas": "3",
		}}},
	}))
	s.WaitForReplicas(t, ns, name, 3, 30*time.Second)

	tap := s.Connect(t, bus.RoleTap)
	r, ok := s.lastReading(t, tap, ns, name)
	if !ok {
		t.Fatal("no reading on the bus though the Deployment scaled")
	}
	poll(t, 30*time.Second, "the external metric through the aggregator", func() (bool, string) {
		_, err := s.Kube.CoreV1().RESTClient().Get().
			AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", ns, r.Trigger.MetricName).
			Param("labelSelector", provider.ScaledObjectLabel+"="+name).DoRaw(t.Context())
		return err == nil, fmt.Sprint(err)
	})

	want := map[string][]series{
		"poller": {
			{"ebb_poller_polls_total", map[string]string{"scaler": "cron", "result": "ok"}, 1},
			{"ebb_poller_poll_duration_seconds", map[string]string{"scaler": "cron"}, 1},
			{"ebb_poller_readings_published_total", map[string]string{"result": "ok"}, 1},
			{"ebb_poller_triggers_owned", nil, 1},
		},
		"decider": {
			{"ebb_decider_readings_consumed_total", nil, 1},
			{"ebb_decider_decisions_total", nil, 1},
			{"ebb_decider_decision_latency_seconds", nil, 1},
			{"ebb_decider_objects_owned", nil, 1},
			{"ebb_decider_bus_lag_seconds", nil, 1},
		},
		"actuator": {
			{"ebb_actuator_actions_total", map[string]string{"operation": "scale", "result": "ok"}, 1},
			{"ebb_actuator_actions_total", map[string]string{"operation": "hpa-create", "result": "ok"}, 1},
			{"ebb_actuator_api_write_duration_seconds", map[string]string{"resource": "deployments/scale"}, 1},
			{"ebb_actuator_decisions_consumed_total", nil, 1},
			{"ebb_actuator_bus_lag_seconds", nil, 1},
			{"controller_runtime_reconcile_total", nil, 1}, // controller-runtime's own, beside ebb's
		},
		"metrics-api": {
			{"ebb_metrics_api_requests_total", map[string]string{"result": "ok"}, 1},
			{"ebb_metrics_api_request_duration_seconds", nil, 1},
			{"ebb_metrics_api_values", nil, 1},
			{"ebb_metrics_api_bus_lag_seconds", nil, 1},
		},
	}
	for _, service := range stack.Services {
		t.Run(service, func(t *testing.T) {
			// A service counts after it acts, and the scrape may come first: poll briefly.
			poll(t, 10*time.Second, service+"'s ebb_* series", func() (bool, string) {
				families, err := scrape(addrs[service])
				if err != nil {
					return false, err.Error()
				}
				for _, w := range want[service] {
					if got := sum(families[w.name], w.labels); got < w.atLeast {
						return false, fmt.Sprintf("%s%v = %v, want at least %v", w.name, labelSet(w.labels), got, w.atLeast)
					}
				}
				return true, ""
			})
		})
	}
}

// labelSet prints as {name="value", …}, as Prometheus writes a series.
func labelSet(labels map[string]string) model.LabelSet {
	set := model.LabelSet{}
	for k, v := range labels {
		set[model.LabelName(k)] = model.LabelValue(v)
	}
	return set
}

// scrape reads a service's /metrics in the text format Prometheus reads.
func scrape(addr string) (map[string]*dto.MetricFamily, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// sum adds up the series of f whose labels include labels: counter and gauge values,
// histogram sample counts.
func sum(f *dto.MetricFamily, labels map[string]string) float64 {
	var total float64
	for _, m := range f.GetMetric() {
		matched := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				matched++
			}
		}
		if matched == len(labels) {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}
