package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestDerivedMetric(t *testing.T) {
	type derived struct {
		Name       string
		Target     float64
		Activation float64
	}
	tests := map[string]struct {
		kind  string
		index int
		p     Params
		want  derived
	}{
		"rabbitmq": {"rabbitmq", 0, Params{Metadata: md("host", "amqp://r", "queueName", "orders", "value", "12", "activationValue", "2")},
			derived{"s0-rabbitmq-orders", 12, 2}},
		"kafka names the topic": {"kafka", 1, Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "topic", "payments")},
			derived{"s1-kafka-payments", 10, 0}},
		"kafka without topic names the group": {"kafka", 0, Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "billing")},
			derived{"s0-kafka-billing", 10, 0}},
		"prometheus": {"prometheus", 0, Params{Metadata: md("serverAddress", "http://p", "query", "up", "threshold", "3.5", "activationThreshold", "1")},
			derived{"s0-prometheus", 3.5, 1}},
		"cron targets one replica": {"cron", 2, Params{Metadata: md("timezone", "Etc/UTC", "start", "0 6 * * *", "end", "0 20 * * *", "desiredReplicas", "4")},
			derived{"s2-cron-Etc-UTC-06xxx-020xxx", 1, 0}},
		"redis": {"redis", 0, Params{Metadata: md("address", "r:6379", "listName", "jobs")}, derived{"s0-redis-jobs", 5, 0}},
		"redis streams length mode": {"redis-streams", 0, Params{Metadata: md("address", "r:6379", "stream", "events", "streamLength", "7")},
			derived{"s0-redis-streams-events", 7, 0}},
		"redis streams pending mode": {"redis-streams", 0, Params{Metadata: md("address", "r:6379", "stream", "events", "consumerGroup", "g", "pendingEntriesCount", "9")},
			derived{"s0-redis-streams-events", 9, 0}},
		"redis streams lag mode": {"redis-streams", 0, Params{Metadata: md("address", "r:6379", "stream", "events", "consumerGroup", "g", "lagCount", "11", "activationLagCount", "2")},
			derived{"s0-redis-streams-events", 11, 2}},
		"postgresql": {"postgresql", 0, Params{Metadata: md("query", "q", "targetQueryValue", "2"), Auth: md("connection", "c")},
			derived{"s0-postgresql", 2, 0}},
		"mysql names the database": {"mysql", 0, Params{Metadata: md("host", "db", "port", "3306", "username", "u", "dbName", "stats", "query", "q", "queryValue", "3")},
			derived{"s0-mysql-stats", 3, 0}},
		"nats-jetstream": {"nats-jetstream", 0, Params{Metadata: md("natsServerMonitoringEndpoint", "n:8222", "stream", "orders", "consumer", "c")},
			derived{"s0-nats-jetstream-orders", 10, 0}},
		"metrics-api is metric-api in KEDA's names, dots replaced": {"metrics-api", 0, Params{Metadata: md("url", "http://a", "valueLocation", "a.b", "targetValue", "2")},
			derived{"s0-metric-api-a-b", 2, 0}},
		"aws-sqs-queue names the queue as aws-sqs": {"aws-sqs-queue", 0, Params{Metadata: md("queueURL", "https://sqs.eu-west-1.amazonaws.com/1/orders", "awsRegion", "eu-west-1", "activationQueueLength", "3"),
			Auth: md("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s")}, derived{"s0-aws-sqs-orders", 5, 3}},
		"aws-sqs-queue given a queue name": {"aws-sqs-queue", 1, Params{Metadata: md("queueURL", "jobs.fifo", "awsRegion", "eu-west-1", "queueLength", "8"),
			Auth: md("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s")}, derived{"s1-aws-sqs-jobs-fifo", 8, 0}},
		"azure-queue": {"azure-queue", 0, Params{Metadata: md("queueName", "orders", "accountName", "acct"), Auth: md("accountKey", "k")},
			derived{"s0-azure-queue-orders", 5, 0}},
		"cpu is a resource metric": {"cpu", 3, Params{Metadata: md("value", "50"), MetricType: autoscalingv2.UtilizationMetricType},
			derived{"cpu", 50, 0}},
	}
	r := Builtin()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, errs := r.Parse(tc.kind, tc.p, triggerPath)
			if len(errs) > 0 {
				t.Fatalf("Parse: %v", errs)
			}
			got := derived{MetricName(tc.index, tc.kind, m), Target(m), Activation(m)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("derived (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHPATarget(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	tests := map[string]struct {
		metricType autoscalingv2.MetricTargetType
		m          Metadata
		want       autoscalingv2.MetricTarget
	}{
		"external average value in milli units": {"", RabbitMQ{Value: 2.5},
			autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("2500m")}},
		"external value": {autoscalingv2.ValueMetricType, Prometheus{Threshold: 100},
			autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("100")}},
		"cron targets 1": {"", Cron{DesiredReplicas: 7},
			autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("1")}},
		"cpu utilization": {autoscalingv2.UtilizationMetricType, CPU{Value: resource.MustParse("60")},
			autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(60)}},
		"memory average value": {autoscalingv2.AverageValueMetricType, Memory{Value: resource.MustParse("512Mi")},
			autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("512Mi")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, HPATarget(tc.metricType, tc.m), quantityEqual); diff != "" {
				t.Errorf("HPATarget (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	r := Builtin()
	p := Params{Metadata: md("bootstrapServers", "a:9092,b:9092", "consumerGroup", "g", "topic", "t", "lagThreshold", "50")}
	path := field.NewPath("spec", "triggers").Index(0)
	for b.Loop() {
		if _, errs := r.Parse("kafka", p, path); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkDerive(b *testing.B) {
	m := RabbitMQ{QueueName: "orders", Value: 20, ActivationValue: 1}
	for b.Loop() {
		_ = MetricName(0, "rabbitmq", m)
		_ = Target(m)
		_ = Activation(m)
	}
}
