package e2e

import (
	"context"
	"testing"

	"ebb.dev/test/servers/rabbitmq"
)

// env is what the scenarios share: one Stack with two actuators, one RabbitMQ broker and one
// Kafka cluster. Each scenario works in its own namespace (and vhost, topic, group), so they
// run at once; only the failover scenario touches a shared process, and what it does (kill
// the leading actuator) is what every other scenario must shrug off anyway.
type env struct {
	*Stack
	rabbit *rabbitmq.Server
	kafka  *kafkaCluster
}

// TestEndToEnd runs every scenario of the suite on one Stack.
func TestEndToEnd(t *testing.T) {
	rabbit := startRabbitMQ(t)
	s := Start(t, Options{EBB: ebbBinary, Instances: map[string]string{"actuator-2": "actuator"}})
	e := &env{Stack: s, rabbit: rabbit(t), kafka: startKafka(t, 0)}
	scenarios := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"poller publishes readings", pollerReadings},
		{"rabbitmq consumer 0-1-20-0", rabbitMQConsumer},
		{"kafka lag", kafkaLag},
		{"cron window", cronWindow},
		{"scaledjob", scaledJob},
		{"fallback while the source is away", fallback},
		{"paused replicas and restore", pausedReplicas},
		{"secret rotation", secretRotation},
		{"actuator failover", actuatorFailover},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, e)
		})
	}
}

// startRabbitMQ starts a broker while the caller goes on (it takes seconds); the function it
// returns waits for it. The broker stops when t ends.
func startRabbitMQ(t *testing.T) func(*testing.T) *rabbitmq.Server {
	t.Helper()
	dir := t.TempDir()
	done := make(chan struct{})
	var (
		server *rabbitmq.Server
		err    error
	)
	go func() {
		defer close(done)
		server, err = rabbitmq.Start(context.Background(), dir, rabbitmq.Options{})
	}()
	t.Cleanup(func() {
		<-done
		if server != nil {
			if err := server.Stop(); err != nil {
				t.Errorf("stop rabbitmq: %v", err)
			}
		}
	})
	return func(t *testing.T) *rabbitmq.Server {
		t.Helper()
		<-done
		if err != nil {
			t.Fatalf("start rabbitmq: %v", err)
		}
		return server
	}
}
