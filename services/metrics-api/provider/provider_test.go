package provider

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

func TestGetExternalMetric(t *testing.T) {
	orders := Key{Namespace: "shop", Name: "orders"}
	tests := map[string]struct {
		values    []Value
		now       time.Time
		namespace string
		selector  string
		metric    string
		wantMilli int64
		wantErr   func(error) bool
		// wantResult is what the observer is told; ResultOK when empty.
		wantResult Result
	}{
		"serves the value the decider published": {
			values: []Value{{Metric: "s0-rabbitmq-orders", Value: 100, At: t0, PollingInterval: 30 * time.Second}},
			now:    t0.Add(10 * time.Second), namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "s0-rabbitmq-orders", wantMilli: 100_000,
		},
		"keeps fractions of a composite value": {
			values: []Value{{Metric: "composite-metric", Value: 0.25, At: t0, PollingInterval: time.Second}},
			now:    t0, namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "composite-metric", wantMilli: 250,
		},
		"a value at exactly three intervals is still served": {
			values: []Value{{Metric: "s0-cron", Value: 4, At: t0, PollingInterval: 30 * time.Second}},
			now:    t0.Add(90 * time.Second), namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "s0-cron", wantMilli: 4000,
		},
		"a value older than three intervals is an error, not a stale answer": {
			values: []Value{{Metric: "s0-cron", Value: 4, At: t0, PollingInterval: 30 * time.Second}},
			now:    t0.Add(91 * time.Second), namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "s0-cron", wantErr: apierrors.IsServiceUnavailable, wantResult: ResultStale,
		},
		"a failing metric without fallback is an error, never zero": {
			values: []Value{{Metric: "s0-kafka-payments", Err: "dial tcp: connection refused", At: t0, PollingInterval: time.Second}},
			now:    t0, namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "s0-kafka-payments", wantErr: apierrors.IsServiceUnavailable, wantResult: ResultFailing,
		},
		"an unknown metric is not found": {
			values: []Value{{Metric: "s0-cron", Value: 4, At: t0, PollingInterval: time.Second}},
			now:    t0, namespace: "shop", selector: "scaledobject.keda.sh/name=orders",
			metric: "s1-cron", wantErr: apierrors.IsNotFound, wantResult: ResultNotFound,
		},
		"the same name in another namespace is not found": {
			values: []Value{{Metric: "s0-cron", Value: 4, At: t0, PollingInterval: time.Second}},
			now:    t0, namespace: "other", selector: "scaledobject.keda.sh/name=orders",
			metric: "s0-cron", wantErr: apierrors.IsNotFound, wantResult: ResultNotFound,
		},
		"a selector without the ScaledObject label is a bad request": {
			values: []Value{{Metric: "s0-cron", Value: 4, At: t0, PollingInterval: time.Second}},
			now:    t0, namespace: "shop", selector: "app=orders",
			metric: "s0-cron", wantErr: apierrors.IsBadRequest, wantResult: ResultBadRequest,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			store := NewStore(func() time.Time { return tc.now })
			store.Set(orders, tc.values)
			selector, err := labels.Parse(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			var results []Result
			p := New(store, WithObserver(func(r Result, _ time.Duration) { results = append(results, r) }))
			got, err := p.GetExternalMetric(context.Background(), tc.namespace, selector, cmprovider.ExternalMetricInfo{Metric: tc.metric})
			want := tc.wantResult
			if want == "" {
				want = ResultOK
			}
			if len(results) != 1 || results[0] != want {
				t.Errorf("observed %v, want [%s]", results, want)
			}
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("GetExternalMetric error = %v, want a matching API error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetExternalMetric: %v", err)
			}
			if len(got.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(got.Items))
			}
			item := got.Items[0]
			if item.Value.MilliValue() != tc.wantMilli || item.MetricName != tc.metric || !item.Timestamp.Time.Equal(t0) {
				t.Errorf("got %s=%dm at %s, want %s=%dm at %s", item.MetricName, item.Value.MilliValue(), item.Timestamp, tc.metric, tc.wantMilli, t0)
			}
		})
	}
}

func TestListAllExternalMetrics(t *testing.T) {
	store := NewStore(time.Now)
	p := New(store)
	if got := p.ListAllExternalMetrics(); len(got) != 0 {
		t.Fatalf("empty store lists %v", got)
	}
	store.Set(Key{"a", "x"}, []Value{{Metric: "s1-redis-jobs"}, {Metric: "s0-cron"}})
	store.Set(Key{"b", "y"}, []Value{{Metric: "s0-cron"}})
	want := []cmprovider.ExternalMetricInfo{{Metric: "s0-cron"}, {Metric: "s1-redis-jobs"}}
	if diff := cmp.Diff(want, p.ListAllExternalMetrics()); diff != "" {
		t.Errorf("after Set (-want +got):\n%s", diff)
	}
	if n := store.Len(); n != 3 {
		t.Errorf("after Set the store holds %d values, want 3", n)
	}
	// A trigger removed from x's spec disappears; s0-cron stays while y still has it.
	store.Set(Key{"a", "x"}, []Value{{Metric: "s0-cron"}})
	store.Delete(Key{"b", "y"})
	want = []cmprovider.ExternalMetricInfo{{Metric: "s0-cron"}}
	if diff := cmp.Diff(want, p.ListAllExternalMetrics()); diff != "" {
		t.Errorf("after removal (-want +got):\n%s", diff)
	}
	if n := store.Len(); n != 1 {
		t.Errorf("after removal the store holds %d values, want 1", n)
	}
}
