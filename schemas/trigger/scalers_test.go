package trigger

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestRabbitMQ(t *testing.T) {
	runParse(t, "rabbitmq", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("host", "amqp://localhost:5672/vhost", "protocol", "auto", "mode", "QueueLength",
				"value", "100.50", "activationValue", "10.5", "queueName", "testqueue", "vhostName", "/")},
			want: RabbitMQ{Host: "amqp://localhost:5672/vhost", Protocol: "auto", QueueName: "testqueue", Mode: "QueueLength",
				Value: 100.5, ActivationValue: 10.5, VhostName: "/", Operation: "sum", PageSize: 100, TLS: "disable"},
		},
		"defaults with host from env": {
			p:    Params{Metadata: md("hostFromEnv", "RABBITMQ_HOST", "queueName", "orders"), Env: md("RABBITMQ_HOST", "amqp://u:p@rmq:5672/")},
			want: RabbitMQ{Host: "amqp://u:p@rmq:5672/", Protocol: "auto", QueueName: "orders", Mode: "QueueLength", Value: 20, Operation: "sum", PageSize: 100, TLS: "disable"},
		},
		"deprecated queueLength and http host from auth": {
			p: Params{Metadata: md("queueName", "orders", "queueLength", "7", "mode", "MessageRate", "useRegex", "true", "operation", "max"),
				Auth: md("host", "http://guest:guest@rmq:15672/")},
			want: RabbitMQ{Host: "http://guest:guest@rmq:15672/", Protocol: "auto", QueueName: "orders", Mode: "MessageRate", Value: 7,
				UseRegex: true, Operation: "max", PageSize: 100, TLS: "disable"},
		},
		"tls, credentials and vhost from auth": {
			p: Params{Metadata: md("host", "amqps://rmq:5671", "queueName", "q"),
				Auth: md("tls", "enable", "ca", "CA", "cert", "C", "key", "K", "keyPassword", "KP", "username", "u", "password", "p", "vhostName", "orders")},
			want: RabbitMQ{Host: "amqps://rmq:5671", Username: "u", Password: "p", Protocol: "auto", QueueName: "q", Mode: "QueueLength",
				Value: 20, VhostName: "orders", Operation: "sum", PageSize: 100, TLS: "enable", CA: "CA", Cert: "C", Key: "K", KeyPassword: "KP"},
		},
		"tls not enable or disable": {
			p:    Params{Metadata: md("host", "amqps://rmq", "queueName", "q"), Auth: md("tls", "on")},
			errs: []string{`spec.triggers[0].authenticationRef[tls]: Unsupported value: "on": supported values: "enable", "disable"`},
		},
		"cert without key": {
			p:    Params{Metadata: md("host", "amqps://rmq", "queueName", "q"), Auth: md("tls", "enable", "cert", "C")},
			errs: []string{"spec.triggers[0].metadata.key: Required value: tls needs cert and key together"},
		},
		"username without password": {
			p:    Params{Metadata: md("host", "http://rmq", "queueName", "q"), Auth: md("username", "u")},
			errs: []string{"spec.triggers[0].metadata.password: Required value: username and password go together"},
		},
		"no host anywhere": {
			p:    Params{Metadata: md("queueName", "orders")},
			errs: []string{"spec.triggers[0].metadata.host: Required value: set host, TriggerAuthentication parameter host or hostFromEnv"},
		},
		"no queue": {
			p:    Params{Metadata: md("host", "amqp://rmq")},
			errs: []string{"spec.triggers[0].metadata.queueName: Required value"},
		},
		"unknown mode": {
			p:    Params{Metadata: md("host", "amqp://rmq", "queueName", "q", "mode", "Length")},
			errs: []string{`spec.triggers[0].metadata.mode: Unsupported value: "Length": supported values: "QueueLength", "MessageRate"`},
		},
		"value zero": {
			p:    Params{Metadata: md("host", "amqp://rmq", "queueName", "q", "value", "0")},
			errs: []string{`spec.triggers[0].metadata.value: Invalid value: "0": must be greater than 0`},
		},
		"MessageRate over amqp": {
			p:    Params{Metadata: md("host", "amqp://rmq", "queueName", "q", "mode", "MessageRate", "value", "5")},
			errs: []string{`spec.triggers[0].metadata.mode: Invalid value: "MessageRate": needs the http protocol (the management API), not amqp`},
		},
		"regex with explicit amqp": {
			p:    Params{Metadata: md("host", "http://rmq", "protocol", "amqp", "queueName", "q.*", "useRegex", "true")},
			errs: []string{`spec.triggers[0].metadata.useRegex: Invalid value: true: needs the http protocol (the management API), not amqp`},
		},
		"bad host value is not printed": {
			p:    Params{Metadata: md("queueName", "q", "pageSize", "0"), Auth: md("host", "http://user:s3cret@rmq")},
			errs: []string{`spec.triggers[0].metadata.pageSize: Invalid value: 0: must be at least 1`},
		},
	})
}

func TestKafka(t *testing.T) {
	runParse(t, "kafka", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("bootstrapServers", "kafka.svc:9092", "consumerGroup", "my-group", "topic", "test-topic",
				"lagThreshold", "5", "activationLagThreshold", "3", "offsetResetPolicy", "latest", "allowIdleConsumers", "false",
				"scaleToZeroOnInvalidOffset", "false", "excludePersistentLag", "false", "limitToPartitionsWithLag", "false",
				"partitionLimitation", "1,2,10-12")},
			want: Kafka{BootstrapServers: []string{"kafka.svc:9092"}, ConsumerGroup: "my-group", Topic: "test-topic",
				PartitionLimitation: Partitions{1, 2, 10, 11, 12}, LagThreshold: 5, ActivationLagThreshold: 3,
				OffsetResetPolicy: "latest", SASL: "none", TLS: "disable"},
		},
		"defaults, servers from env, sasl from auth": {
			p: Params{Metadata: md("bootstrapServersFromEnv", "BROKERS", "consumerGroup", "g"), Env: md("BROKERS", "a:9092,b:9092"),
				Auth: md("sasl", "plaintext", "username", "u", "password", "p")},
			want: Kafka{BootstrapServers: []string{"a:9092", "b:9092"}, ConsumerGroup: "g", LagThreshold: 10, OffsetResetPolicy: "latest",
				SASL: "plaintext", Username: "u", Password: "p", TLS: "disable"},
		},
		"missing servers and group": {
			p: Params{Metadata: md("topic", "t")},
			errs: []string{
				"spec.triggers[0].metadata.bootstrapServers: Required value: set bootstrapServers or bootstrapServersFromEnv",
				"spec.triggers[0].metadata.consumerGroup: Required value: set consumerGroup or consumerGroupFromEnv",
			},
		},
		"bad offset policy": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "offsetResetPolicy", "newest")},
			errs: []string{`spec.triggers[0].metadata.offsetResetPolicy: Unsupported value: "newest": supported values: "latest", "earliest"`},
		},
		"lag threshold not a number": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "lagThreshold", "ten")},
			errs: []string{`spec.triggers[0].metadata.lagThreshold: Invalid value: "ten": must be an integer`},
		},
		"negative activation": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "activationLagThreshold", "-1")},
			errs: []string{`spec.triggers[0].metadata.activationLagThreshold: Invalid value: -1: must not be negative`},
		},
		"idle consumers with partitions with lag": {
			p: Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "topic", "t",
				"allowIdleConsumers", "true", "limitToPartitionsWithLag", "true")},
			errs: []string{`spec.triggers[0].metadata.limitToPartitionsWithLag: Invalid value: true: cannot be used with allowIdleConsumers`},
		},
		"partitions with lag without topic": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "limitToPartitionsWithLag", "true")},
			errs: []string{`spec.triggers[0].metadata.limitToPartitionsWithLag: Invalid value: true: needs a topic`},
		},
		"unsupported sasl": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g"), Auth: md("sasl", "oauthbearer")},
			errs: []string{`spec.triggers[0].authenticationRef[sasl]: Unsupported value: "oauthbearer": supported values: "none", "plaintext", "scram_sha256", "scram_sha512"`},
		},
		"partition limitation without topic": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g", "partitionLimitation", "1-2")},
			errs: []string{`spec.triggers[0].metadata.partitionLimitation: Invalid value: "1,2": needs a topic`},
		},
		"scram without credentials": {
			p: Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g"), Auth: md("sasl", "scram_sha512")},
			errs: []string{
				"spec.triggers[0].metadata.username: Required value: sasl scram_sha512 needs a username and password",
				"spec.triggers[0].metadata.password: Required value: sasl scram_sha512 needs a username and password",
			},
		},
		"cert without key": {
			p:    Params{Metadata: md("bootstrapServers", "k:9092", "consumerGroup", "g"), Auth: md("tls", "enable", "cert", "C")},
			errs: []string{"spec.triggers[0].metadata.key: Required value: tls needs cert and key together"},
		},
	})
}

func TestCron(t *testing.T) {
	runParse(t, "cron", map[string]parseCase{
		"documented example": {
			p:    Params{Metadata: md("timezone", "Asia/Kolkata", "start", "30 * * * *", "end", "45 * * * *", "desiredReplicas", "10")},
			want: Cron{Timezone: "Asia/Kolkata", Start: "30 * * * *", End: "45 * * * *", DesiredReplicas: 10},
		},
		"unknown zone": {
			p:    Params{Metadata: md("timezone", "Mars/Olympus", "start", "0 6 * * *", "end", "0 20 * * *", "desiredReplicas", "2")},
			errs: []string{`spec.triggers[0].metadata.timezone: Invalid value: "Mars/Olympus": must be an IANA time zone such as Europe/Berlin`},
		},
		"six fields": {
			p: Params{Metadata: md("timezone", "UTC", "start", "0 0 6 * * *", "end", "0 20 * * *", "desiredReplicas", "2")},
			errs: []string{`spec.triggers[0].metadata.start: Invalid value: "0 0 6 * * *": must be a five-field cron expression: ` +
				`expected exactly 5 fields, found 6: [0 0 6 * * *]`},
		},
		"same start and end": {
			p:    Params{Metadata: md("timezone", "UTC", "start", "0 6 * * *", "end", "0 6 * * *", "desiredReplicas", "2")},
			errs: []string{`spec.triggers[0].metadata.end: Invalid value: "0 6 * * *": must differ from start`},
		},
		"zero replicas": {
			p:    Params{Metadata: md("timezone", "UTC", "start", "0 6 * * *", "end", "0 20 * * *", "desiredReplicas", "0")},
			errs: []string{`spec.triggers[0].metadata.desiredReplicas: Invalid value: 0: must be at least 1`},
		},
		"missing desiredReplicas": {
			p:    Params{Metadata: md("timezone", "UTC", "start", "0 6 * * *", "end", "0 20 * * *")},
			errs: []string{"spec.triggers[0].metadata.desiredReplicas: Required value"},
		},
	})
}

func TestNATSJetStream(t *testing.T) {
	runParse(t, "nats-jetstream", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("natsServerMonitoringEndpoint", "nats.nats.svc.cluster.local:8222", "account", "$G",
				"stream", "mystream", "consumer", "pull_consumer", "lagThreshold", "10", "activationLagThreshold", "15", "useHttps", "false")},
			want: NATSJetStream{MonitoringEndpoint: "nats.nats.svc.cluster.local:8222", Account: "$G", Stream: "mystream",
				Consumer: "pull_consumer", LagThreshold: 10, ActivationLagThreshold: 15},
		},
		"endpoint from auth, defaults": {
			p:    Params{Metadata: md("stream", "s", "consumer", "c"), Auth: md("natsServerMonitoringEndpoint", "nats:8222")},
			want: NATSJetStream{MonitoringEndpoint: "nats:8222", Account: "$G", Stream: "s", Consumer: "c", LagThreshold: 10},
		},
		"account from auth wins over metadata": {
			p:    Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "account", "meta", "stream", "s", "consumer", "c"), Auth: md("account", "orders")},
			want: NATSJetStream{MonitoringEndpoint: "nats:8222", Account: "orders", Stream: "s", Consumer: "c", LagThreshold: 10},
		},
		"no consumer": {
			p:    Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s")},
			errs: []string{"spec.triggers[0].metadata.consumer: Required value"},
		},
		"client URLs with credentials from auth (ebb extension)": {
			p: Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c"),
				Auth: md("natsServerURL", "nats://app:pw@nats-0:4222, tls://nats-1:4222")},
			want: NATSJetStream{MonitoringEndpoint: "nats:8222", Account: "$G", Stream: "s", Consumer: "c", LagThreshold: 10,
				ServerURL: "nats://app:pw@nats-0:4222, tls://nats-1:4222"},
		},
		"client URL over websocket in metadata": {
			p:    Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c", "natsServerURL", "wss://nats.example:443")},
			want: NATSJetStream{MonitoringEndpoint: "nats:8222", Account: "$G", Stream: "s", Consumer: "c", LagThreshold: 10, ServerURL: "wss://nats.example:443"},
		},
		"client URL without a scheme, value kept out of the error": {
			p:    Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c"), Auth: md("natsServerURL", "app:hunter2@nats:4222")},
			errs: []string{"spec.triggers[0].metadata.natsServerURL: Invalid value: must be client URLs, comma separated, each nats://, tls://, ws:// or wss:// with a host, such as nats://nats:4222"},
		},
		"monitoring URL given as the client URL": {
			p:    Params{Metadata: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c", "natsServerURL", "nats://nats:4222,http://nats:8222")},
			errs: []string{"spec.triggers[0].metadata.natsServerURL: Invalid value: must be client URLs, comma separated, each nats://, tls://, ws:// or wss:// with a host, such as nats://nats:4222"},
		},
	})
}

func TestResources(t *testing.T) {
	util := autoscalingv2.UtilizationMetricType
	runParse(t, "cpu", map[string]parseCase{
		"utilization": {
			p:    Params{Metadata: md("value", "60"), MetricType: util},
			want: CPU{Value: resource.MustParse("60")},
		},
		"average value with container": {
			p:    Params{Metadata: md("value", "500m", "containerName", "app"), MetricType: autoscalingv2.AverageValueMetricType},
			want: CPU{Value: resource.MustParse("500m"), ContainerName: "app"},
		},
		"fractional utilization": {
			p:    Params{Metadata: md("value", "50.5"), MetricType: util},
			errs: []string{`spec.triggers[0].metadata.value: Invalid value: "50500m": must be a whole percentage with metricType Utilization`},
		},
		"Value metric type": {
			p:    Params{Metadata: md("value", "50"), MetricType: autoscalingv2.ValueMetricType},
			errs: []string{`spec.triggers[0].metricType: Unsupported value: "Value": supported values: "Utilization", "AverageValue"`},
		},
		"no value": {
			p:    Params{Metadata: md(), MetricType: util},
			errs: []string{"spec.triggers[0].metadata.value: Required value"},
		},
	})
	runParse(t, "memory", map[string]parseCase{
		"average value": {
			p:    Params{Metadata: md("value", "512Mi"), MetricType: autoscalingv2.AverageValueMetricType},
			want: Memory{Value: resource.MustParse("512Mi")},
		},
		"not a quantity": {
			p:    Params{Metadata: md("value", "half"), MetricType: util},
			errs: []string{`spec.triggers[0].metadata.value: Invalid value: "half": must be a quantity such as 500m or 1Gi`},
		},
	})
}
