package e2e

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaLag: a consumer group's lag on a four-partition topic wakes a Deployment at zero; the
// HPA (ebb's fast path off) takes it to one replica per partition (lag 80 at lagThreshold 10 asks for 8, but more
// consumers than partitions would idle, so the lag counts as 4 × 10); when the group commits
// up to the end it goes back to zero.
func kafkaLag(t *testing.T, e *env) {
	const ns, topic, group = "payments", "payments", "settlers"
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, "settle", 0)
	e.kafka.createTopic(t, topic, 4)
	e.kafka.produce(t, topic, 4, 25)
	e.kafka.commit(t, group, topic, map[int32]int64{0: 5, 1: 5, 2: 5, 3: 5})
	e.apply(t, scaledObjects, hpaOnly(scaledObjectManifest(ns, "settle", map[string]any{
		"maxReplicaCount": int64(10),
		"triggers": []any{map[string]any{"type": "kafka", "metadata": map[string]any{
			"bootstrapServers": e.kafka.addr, "consumerGroup": group, "topic": topic, "lagThreshold": "10",
		}}},
	})))

	e.WaitForReplicas(t, ns, "settle", 1, 30*time.Second)
	e.WaitForReplicas(t, ns, "settle", 4, 60*time.Second)

	e.kafka.commit(t, group, topic, map[int32]int64{0: 25, 1: 25, 2: 25, 3: 25})
	e.WaitForReplicas(t, ns, "settle", 0, 60*time.Second)
}

// kafkaCluster is an in-process Kafka broker (kfake: the real wire protocol) on 127.0.0.1,
// with a client that produces records and commits offsets as producers and consumers would.
type kafkaCluster struct {
	cluster *kfake.Cluster
	addr    string
	client  *kgo.Client
	admin   *kadm.Client
}

// startKafka starts a broker on port (0: a free one), stopped when t ends.
func startKafka(t *testing.T, port int) *kafkaCluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.ListenFn(listenLoopback))
	if err != nil {
		t.Fatalf("start kafka: %v", err)
	}
	t.Cleanup(c.Close)
	k := &kafkaCluster{cluster: c, addr: c.ListenAddrs()[0]}
	k.client, err = kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.client.Close)
	k.admin = kadm.NewClient(k.client)
	return k
}

// listenLoopback listens on 127.0.0.1 whatever host it is asked for: the broker is for this
// machine only.
func listenLoopback(network, address string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	return net.Listen(network, net.JoinHostPort("127.0.0.1", port))
}

// port is the broker's port, for a broker that must come back at the same address.
func (k *kafkaCluster) port(t *testing.T) int {
	t.Helper()
	_, p, err := net.SplitHostPort(k.addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (k *kafkaCluster) createTopic(t *testing.T, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := k.admin.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes n records to each of the topic's partitions.
func (k *kafkaCluster) produce(t *testing.T, topic string, partitions int32, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var records []*kgo.Record
	for p := range partitions {
		for range n {
			records = append(records, &kgo.Record{Topic: topic, Partition: p, Value: []byte("x")})
		}
	}
	if err := k.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// commit commits the group's offsets on the topic's partitions.
func (k *kafkaCluster) commit(t *testing.T, group, topic string, at map[int32]int64) {
	t.Helper()
	var offsets kadm.Offsets
	for p, o := range at {
		offsets.AddOffset(topic, p, o, -1)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := k.admin.CommitAllOffsets(ctx, group, offsets); err != nil {
		t.Fatalf("commit offsets of %s: %v", group, err)
	}
}
