package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

const (
	// ExternalMetricsAPIService is the APIService through which the HPA reads external metrics.
	ExternalMetricsAPIService = "v1beta1.external.metrics.k8s.io"
	// ExternalMetricsServiceDNS is the name the aggregator expects in the serving certificate of
	// the server RegisterExternalMetrics registers.
	ExternalMetricsServiceDNS = "ebb-external-metrics.kube-system.svc"
)

var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// RegisterExternalMetrics routes external.metrics.k8s.io to a server on this host at
// localhost:port: an ExternalName Service (kube-system/ebb-external-metrics) and the APIService,
// verified with caBundle (or not verified when caBundle is empty). It returns once the
// aggregator reports the APIService Available.
func (c *Cluster) RegisterExternalMetrics(ctx context.Context, port int, caBundle []byte) error {
	kube, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "ebb-external-metrics", Namespace: "kube-system"},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port)}},
		},
	}
	if _, err := kube.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s: %w", svc.Name, err)
	}
	spec := map[string]any{
		"group":                "external.metrics.k8s.io",
		"version":              "v1beta1",
		"service":              map[string]any{"namespace": svc.Namespace, "name": svc.Name, "port": int64(port)},
		"groupPriorityMinimum": int64(100),
		"versionPriority":      int64(100),
	}
	if len(caBundle) > 0 {
		spec["caBundle"] = caBundle
	} else {
		spec["insecureSkipTLSVerify"] = true
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": ExternalMetricsAPIService},
		"spec":       spec,
	}}
	client, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	if _, err := client.Resource(apiServices).Create(ctx, apiService, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create apiservice: %w", err)
	}
	var last []any
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := client.Resource(apiServices).Get(ctx, ExternalMetricsAPIService, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last, _, _ = unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, cond := range last {
			if m, _ := cond.(map[string]any); m["type"] == "Available" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("wait for apiservice %s to be Available: %w (conditions: %v)", ExternalMetricsAPIService, err, last)
	}
	return nil
}
