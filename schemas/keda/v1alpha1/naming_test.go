package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHPAName(t *testing.T) {
	tests := map[string]struct {
		so   ScaledObject
		want string
	}{
		"default prefix": {
			so:   ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "orders"}},
			want: "keda-hpa-orders",
		},
		"advanced name wins": {
			so: ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "orders"}, Spec: ScaledObjectSpec{
				Advanced: &AdvancedConfig{HorizontalPodAutoscalerConfig: &HorizontalPodAutoscalerConfig{Name: "my-hpa"}},
			}},
			want: "my-hpa",
		},
		"empty advanced name falls back": {
			so: ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "orders"}, Spec: ScaledObjectSpec{
				Advanced: &AdvancedConfig{HorizontalPodAutoscalerConfig: &HorizontalPodAutoscalerConfig{}},
			}},
			want: "keda-hpa-orders",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := HPAName(&tc.so); got != tc.want {
				t.Errorf("HPAName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMetricName(t *testing.T) {
	tests := map[string]struct {
		index          int
		scaler, detail string
		want           string
	}{
		"queue":              {0, "rabbitmq", "orders", "s0-rabbitmq-orders"},
		"no detail":          {0, "prometheus", "", "s0-prometheus"},
		"second trigger":     {1, "kafka", "payments", "s1-kafka-payments"},
		"cron timezone":      {0, "cron", "Etc/UTC-00xxx-05xxx", "s0-cron-Etc-UTC-00xxx-05xxx"},
		"every odd char":     {2, "metrics-api", "a/b.c:d%e(f)g", "s2-metrics-api-a-b-c-d-e-f-g"},
		"dashes stay dashes": {3, "redis-streams", "my-stream", "s3-redis-streams-my-stream"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := MetricName(tc.index, tc.scaler, tc.detail); got != tc.want {
				t.Errorf("MetricName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConditionsSet(t *testing.T) {
	var c Conditions
	ready := Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "ScaledObjectReady"}
	if !c.Set(ready) {
		t.Fatal("first Set reported no change")
	}
	if c.Set(ready) {
		t.Error("identical Set reported a change")
	}
	ready.Status = metav1.ConditionFalse
	if !c.Set(ready) {
		t.Error("changed Set reported no change")
	}
	got, ok := c.Get(ConditionReady)
	if !ok || got.Status != metav1.ConditionFalse || len(c) != 1 {
		t.Errorf("Get = %+v, %v (len %d), want the False condition once", got, ok, len(c))
	}
	if _, ok := c.Get(ConditionActive); ok {
		t.Error("Get(Active) found a condition never set")
	}
}
