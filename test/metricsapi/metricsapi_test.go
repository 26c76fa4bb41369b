package metricsapi

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	externalmetrics "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	"k8s.io/utils/ptr"

	metricsapi "ebb.dev/services/metrics-api"
	"ebb.dev/services/metrics-api/provider"
	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

const metric = "s0-rabbitmq-orders"

// TestHPAScalesOnServedValue: 100 messages at a target of 5 per replica is 20 replicas, read by
// the HPA controller through the aggregator from ebb's metrics API.
func TestHPAScalesOnServedValue(t *testing.T) {
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	ctx := t.Context()
	srv := startMetricsAPI(t, c)
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig)

	srv.Store.Set(provider.Key{Namespace: "default", Name: "consumer"}, []provider.Value{{
		Metric: metric, Value: 100, At: time.Now(), PollingInterval: time.Hour,
	}})
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, deployment("consumer"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, hpa("consumer", 5), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "20 replicas", func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments("default").Get(ctx, "consumer", metav1.GetOptions{})
		return err == nil && *d.Spec.Replicas == 20, err
	})
}

// TestThroughTheAggregator reads values as any client of the API does, and sees stale and
// failing values as errors rather than numbers.
func TestThroughTheAggregator(t *testing.T) {
	c := clustertest.Start(t, cluster.Config{})
	srv := startMetricsAPI(t, c)
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig)
	now := time.Now()
	srv.Store.Set(provider.Key{Namespace: "shop", Name: "fresh"}, []provider.Value{{Metric: metric, Value: 2.5, At: now, PollingInterval: time.Hour}})
	srv.Store.Set(provider.Key{Namespace: "shop", Name: "stale"}, []provider.Value{{Metric: metric, Value: 7, At: now.Add(-time.Hour), PollingInterval: time.Second}})
	srv.Store.Set(provider.Key{Namespace: "shop", Name: "failing"}, []provider.Value{{Metric: metric, Err: "connection refused", At: now, PollingInterval: time.Hour}})

	get := func(name string) (*externalmetrics.ExternalMetricValueList, error) {
		var list externalmetrics.ExternalMetricValueList
		err := kube.CoreV1().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces/shop", metric).
			Param("labelSelector", provider.ScaledObjectLabel+"="+name).Do(t.Context()).Into(&list)
		return &list, err
	}
	list, err := get("fresh")
	if err != nil {
		t.Fatalf("get fresh value: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Value.MilliValue() != 2500 {
		t.Errorf("fresh value = %+v, want one item of 2.5", list.Items)
	}
	for _, name := range []string{"stale", "failing"} {
		if _, err := get(name); !apierrors.IsServiceUnavailable(err) {
			t.Errorf("%s value: error = %v, want ServiceUnavailable", name, err)
		}
	}
	if _, err := get("missing"); !apierrors.IsNotFound(err) {
		t.Errorf("missing value: error = %v, want NotFound", err)
	}
}

// startMetricsAPI runs the metrics API in this process on a free loopback port, registered as
// v1beta1.external.metrics.k8s.io and verified by the CA of the certificate it generated.
func startMetricsAPI(t *testing.T, c *cluster.Cluster) *metricsapi.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	certDir := t.TempDir()
	srv, err := metricsapi.NewServer(metricsapi.Config{
		BindAddress: "127.0.0.1", Port: port, CertDir: certDir, Kubeconfig: c.Kubeconfig,
		DNSNames: []string{cluster.ExternalMetricsServiceDNS},
	}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("metrics-api: %v", err)
		}
	})
	waitFor(t, "metrics-api healthy", func(ctx context.Context) (bool, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("healthz: %s", resp.Status)
	})
	caBundle, err := os.ReadFile(filepath.Join(certDir, "metrics-api.crt"))
	if err != nil {
		t.Fatalf("read generated certificate: %v", err)
	}
	if err := c.RegisterExternalMetrics(t.Context(), port, caBundle); err != nil {
		t.Fatal(err)
	}
	return srv
}

func waitFor(t *testing.T, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		last = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last: %v)", what, err, last)
	}
}

func deployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}
}

func hpa(name string, averageValue int64) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-" + name, Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    ptr.To[int32](1),
			MaxReplicas:    30,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ExternalMetricSourceType,
				External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: metric, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{provider.ScaledObjectLabel: name}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(averageValue, resource.DecimalSI)},
				},
			}},
			// One sync straight to the recommendation, so the test does not wait on the default
			// max(2x, 4) growth.
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: ptr.To[int32](0),
				Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 10000, PeriodSeconds: 1}},
			}},
		},
	}
}
