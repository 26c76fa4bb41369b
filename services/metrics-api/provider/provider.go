package provider

import (
	"context"
	"errors"
	"fmt"
	"math"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/metrics/pkg/apis/external_metrics"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// ScaledObjectLabel is the selector label the HPA sends with every external metric request; its
// value names the ScaledObject whose metric is asked for.
const ScaledObjectLabel = "scaledobject.keda.sh/name"

var scaledObjects = schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}

// Provider is a custom-metrics-apiserver ExternalMetricsProvider backed by a Store.
type Provider struct {
	store *Store
}

var _ cmprovider.ExternalMetricsProvider = (*Provider)(nil)

// New returns a Provider serving from store.
func New(store *Store) *Provider { return &Provider{store: store} }

// GetExternalMetric answers one HPA request: the metric of the ScaledObject the selector names.
func (p *Provider) GetExternalMetric(_ context.Context, namespace string, selector labels.Selector, info cmprovider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	name, ok := selector.RequiresExactMatch(ScaledObjectLabel)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("metric %s: the selector must name a ScaledObject (%s=<name>), got %q", info.Metric, ScaledObjectLabel, selector.String()))
	}
	v, err := p.store.Get(Key{Namespace: namespace, Name: name}, info.Metric)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, cmprovider.NewMetricNotFoundForSelectorError(scaledObjects, info.Metric, name, selector)
	case err != nil:
		return nil, apierrors.NewServiceUnavailable(err.Error())
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName:   info.Metric,
		MetricLabels: map[string]string{ScaledObjectLabel: name},
		Timestamp:    metav1.NewTime(v.At),
		Value:        quantity(v.Value),
	}}}, nil
}

// ListAllExternalMetrics lists every metric name held; it is fast and never fails.
func (p *Provider) ListAllExternalMetrics() []cmprovider.ExternalMetricInfo {
	names := p.store.Names()
	infos := make([]cmprovider.ExternalMetricInfo, len(names))
	for i, n := range names {
		infos[i] = cmprovider.ExternalMetricInfo{Metric: n}
	}
	return infos
}

// quantity keeps three decimals, as KEDA does: a composite or a rate like 0.25 must not round to 0.
func quantity(v float64) resource.Quantity {
	return *resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI)
}
