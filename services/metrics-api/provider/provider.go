package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

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
	store   *Store
	observe Observer
}

var _ cmprovider.ExternalMetricsProvider = (*Provider)(nil)

// Result is how one request for a metric ended.
type Result string

// Results of GetExternalMetric.
const (
	ResultOK         Result = "ok"
	ResultNotFound   Result = "not-found"   // no such object or metric
	ResultStale      Result = "stale"       // no decision for StaleAfter polling intervals
	ResultFailing    Result = "failing"     // the decider had no value (a failing trigger without fallback)
	ResultBadRequest Result = "bad-request" // the selector names no ScaledObject
)

// Observer is told how each request ended and how long it took to answer.
type Observer func(r Result, took time.Duration)

// Option changes a Provider.
type Option func(*Provider)

// WithObserver tells o of every request.
func WithObserver(o Observer) Option { return func(p *Provider) { p.observe = o } }

// New returns a Provider serving from store.
func New(store *Store, opts ...Option) *Provider {
	p := &Provider{store: store, observe: func(Result, time.Duration) {}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// GetExternalMetric answers one HPA request: the metric of the ScaledObject the selector names.
func (p *Provider) GetExternalMetric(_ context.Context, namespace string, selector labels.Selector, info cmprovider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	start := p.store.now()
	list, result, err := p.get(namespace, selector, info)
	p.observe(result, p.store.now().Sub(start))
	return list, err
}

func (p *Provider) get(namespace string, selector labels.Selector, info cmprovider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, Result, error) {
	name, ok := selector.RequiresExactMatch(ScaledObjectLabel)
	if !ok {
		return nil, ResultBadRequest, apierrors.NewBadRequest(fmt.Sprintf("metric %s: the selector must name a ScaledObject (%s=<name>), got %q", info.Metric, ScaledObjectLabel, selector.String()))
	}
	v, err := p.store.Get(Key{Namespace: namespace, Name: name}, info.Metric)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ResultNotFound, cmprovider.NewMetricNotFoundForSelectorError(scaledObjects, info.Metric, name, selector)
	case errors.Is(err, ErrStale):
		return nil, ResultStale, apierrors.NewServiceUnavailable(err.Error())
	case err != nil:
		return nil, ResultFailing, apierrors.NewServiceUnavailable(err.Error())
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName:   info.Metric,
		MetricLabels: map[string]string{ScaledObjectLabel: name},
		Timestamp:    metav1.NewTime(v.At),
		Value:        quantity(v.Value),
	}}}, ResultOK, nil
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
