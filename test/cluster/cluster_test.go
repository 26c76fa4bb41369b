package cluster_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	externalmetrics "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	"k8s.io/utils/ptr"

	"ebb.dev/test/cluster"
	"ebb.dev/test/cluster/clustertest"
)

func TestDeploymentGetsReplicaSetAndPods(t *testing.T) {
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	ctx := t.Context()
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig)

	if _, err := kube.AppsV1().Deployments("default").Create(ctx, deployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	selector := labels.SelectorFromSet(labels.Set{"app": "web"}).String()
	waitFor(t, "a ReplicaSet owned by the Deployment with 3 Pods", func(ctx context.Context) (bool, error) {
		rss, err := kube.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil || len(rss.Items) != 1 || metav1.GetControllerOf(&rss.Items[0]).Name != "web" {
			return false, err
		}
		pods, err := kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		return err == nil && len(pods.Items) == 3, err
	})
}

// TestHPAReadsExternalMetricsFromHostServer proves the aggregation layer works on loopback: an
// external-metrics server on the host, registered through an ExternalName Service, is queried by
// the HPA controller as its own service account, and the HPA scales the Deployment by its value.
func TestHPAReadsExternalMetricsFromHostServer(t *testing.T) {
	c := clustertest.Start(t, cluster.Config{ControllerManager: true})
	ctx := t.Context()
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig)
	metrics := startExternalMetricsServer(t, c.FrontProxyCAFile)
	// httptest's certificate does not name localhost, so this registration skips verification;
	// the real metrics-api is registered with its caBundle.
	if err := c.RegisterExternalMetrics(ctx, metrics.port, nil); err != nil {
		t.Fatal(err)
	}

	metrics.value.Store(50)
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, deployment("consumer", 1), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	if _, err := kube.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, externalHPA("consumer", 10), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create hpa: %v", err)
	}
	// 50 queued at an average target of 10 per replica: ceil(50/10) = 5.
	waitForReplicas(t, kube, "consumer", 5)
	// 20 queued at 10 per replica: 2.
	metrics.value.Store(20)
	waitForReplicas(t, kube, "consumer", 2)

	users := metrics.users()
	if want := "system:serviceaccount:kube-system:horizontal-pod-autoscaler"; !users[want] {
		t.Errorf("external metrics were read by %v, want the HPA controller's service account %s", users, want)
	}
}

func waitForReplicas(t *testing.T, kube kubernetes.Interface, name string, want int32) {
	t.Helper()
	waitFor(t, fmt.Sprintf("deployment %s at %d replicas", name, want), func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && ptr.Deref(d.Spec.Replicas, -1) == want, err
	})
}

// waitFor polls cond every 250 ms for at most 90 s (two HPA syncs and then some on a busy machine).
func waitFor(t *testing.T, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		lastErr = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, lastErr)
	}
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}
}

func externalHPA(name string, averageValue int64) *autoscalingv2.HorizontalPodAutoscaler {
	// Without a behavior the HPA grows at most max(2x, 4) per sync and waits 300 s to shrink;
	// these policies let each sync go straight to its recommendation so the test takes seconds.
	fast := func() *autoscalingv2.HPAScalingRules {
		return &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](0),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 1000, PeriodSeconds: 1}},
		}
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    ptr.To[int32](1),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ExternalMetricSourceType,
				External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue-depth", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(averageValue, resource.DecimalSI)},
				},
			}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: fast(), ScaleDown: fast()},
		},
	}
}

// metricsServer is a minimal external.metrics.k8s.io server: one metric, queue-depth, whose
// value the test sets. It accepts only the aggregation layer's front-proxy client certificate.
type metricsServer struct {
	port  int
	value atomic.Int64

	mu     sync.Mutex
	seenBy map[string]bool
}

func (m *metricsServer) users() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seenBy
}

func startExternalMetricsServer(t *testing.T, frontProxyCAFile string) *metricsServer {
	t.Helper()
	caPEM, err := os.ReadFile(frontProxyCAFile)
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)

	m := &metricsServer{seenBy: map[string]bool{}}
	const prefix = "/apis/external.metrics.k8s.io/v1beta1"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: "external.metrics.k8s.io/v1beta1",
			APIResources: []metav1.APIResource{{Name: "queue-depth", Namespaced: true, Kind: "ExternalMetricValueList", Verbs: []string{"get"}}},
		})
	})
	mux.HandleFunc("GET "+prefix+"/namespaces/{namespace}/{metric}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.seenBy[r.Header.Get("X-Remote-User")] = true
		m.mu.Unlock()
		if r.PathValue("metric") != "queue-depth" {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, externalmetrics.ExternalMetricValueList{
			TypeMeta: metav1.TypeMeta{Kind: "ExternalMetricValueList", APIVersion: "external.metrics.k8s.io/v1beta1"},
			Items: []externalmetrics.ExternalMetricValue{{
				MetricName: "queue-depth",
				Timestamp:  metav1.Now(),
				Value:      *resource.NewQuantity(m.value.Load(), resource.DecimalSI),
			}},
		})
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port, err := strconv.Atoi(srv.URL[strings.LastIndex(srv.URL, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	m.port = port
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
