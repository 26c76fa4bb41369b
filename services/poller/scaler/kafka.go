package scaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"ebb.dev/schemas/trigger"
)

// kafkaGroup reads a consumer group's lag: the sum over partitions of end offset minus
// committed offset, with KEDA's rules for uncommitted partitions, persistent lag and the cap
// at one lagThreshold per partition.
type kafkaGroup struct {
	adm     kafkaClient
	release func() error
	m       trigger.Kafka
	log     *slog.Logger

	mu sync.Mutex
	// previous holds each partition's committed offset at the last read, for
	// excludePersistentLag: lag that did not move between reads is not counted.
	previous map[string]map[int32]int64
}

// kafkaClient is a pooled admin client; closing it closes the underlying kgo client.
type kafkaClient struct{ *kadm.Client }

func (c kafkaClient) Close() error {
	c.Client.Close()
	return nil
}

func newKafka(m trigger.Kafka, d Deps) (Scaler, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(m.BootstrapServers...)}
	switch m.SASL {
	case "plaintext":
		opts = append(opts, kgo.SASL(plain.Auth{User: m.Username, Pass: m.Password}.AsMechanism()))
	case "scram_sha256":
		opts = append(opts, kgo.SASL(scram.Auth{User: m.Username, Pass: m.Password}.AsSha256Mechanism()))
	case "scram_sha512":
		opts = append(opts, kgo.SASL(scram.Auth{User: m.Username, Pass: m.Password}.AsSha512Mechanism()))
	}
	tlsSet := tlsSettings{CA: m.CA, Cert: m.Cert, Key: m.Key, KeyPassword: m.KeyPassword, UnsafeSSL: m.UnsafeSSL}
	if m.TLS == "enable" {
		cfg, err := tlsSet.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	key := Key("kafka", append([]string{strings.Join(m.BootstrapServers, ","), m.SASL, m.Username, m.Password, m.TLS}, tlsSet.parts()...)...)
	adm, release, err := Acquire(d.Pool, key, func() (kafkaClient, error) {
		cl, err := kgo.NewClient(opts...) // connects on first request
		if err != nil {
			return kafkaClient{}, err
		}
		return kafkaClient{kadm.NewClient(cl)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &kafkaGroup{adm: adm, release: release, m: m, log: d.Log, previous: map[string]map[int32]int64{}}, nil
}

func (k *kafkaGroup) Read(ctx context.Context) (float64, error) {
	group := k.m.ConsumerGroup
	committed, err := k.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = kadm.OffsetResponses{}, nil // a group that never ran has committed nothing
	}
	if err != nil {
		return 0, fmt.Errorf("kafka: fetch offsets of group %q: %w", group, err)
	}
	topics := []string{k.m.Topic}
	if k.m.Topic == "" {
		topics = slices.Sorted(maps.Keys(committed))
		if len(topics) == 0 {
			k.log.Debug("kafka: consumer group has no committed offsets and no topic is set", "consumerGroup", group)
			return 0, nil
		}
	}
	ends, err := k.adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("kafka: list end offsets of %s: %w", strings.Join(topics, ","), err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return float64(kafkaLag(k.m, partitionOffsets(k.m, committed, ends), k.previous)), nil
}

func (k *kafkaGroup) Close() error { return k.release() }

// kafkaPartition is what the lag of one partition is computed from.
type kafkaPartition struct {
	topic     string
	partition int32
	committed int64 // -1 when the group has committed nothing
	end       int64
}

// partitionOffsets pairs each listed partition (within partitionLimitation) with the group's
// commit on it.
func partitionOffsets(m trigger.Kafka, committed kadm.OffsetResponses, ends kadm.ListedOffsets) []kafkaPartition {
	var parts []kafkaPartition
	ends.Each(func(o kadm.ListedOffset) {
		if len(m.PartitionLimitation) > 0 && !slices.Contains(m.PartitionLimitation, o.Partition) {
			return
		}
		p := kafkaPartition{topic: o.Topic, partition: o.Partition, committed: -1, end: o.Offset}
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok {
			p.committed = c.At
		}
		parts = append(parts, p)
	})
	return parts
}

// kafkaLag is the trigger's value for the partitions' offsets. previous is updated for
// excludePersistentLag.
func kafkaLag(m trigger.Kafka, parts []kafkaPartition, previous map[string]map[int32]int64) int64 {
	var total, withLag int64
	for _, p := range parts {
		lag := partitionLag(m, p, previous)
		total += lag
		if lag > 0 {
			withLag++
		}
	}
	if m.AllowIdleConsumers && !m.LimitToPartitionsWithLag {
		return total
	}
	// One consumer per partition at most: more would sit idle.
	limit := int64(len(parts))
	if m.LimitToPartitionsWithLag {
		limit = withLag
	}
	if total/m.LagThreshold > limit {
		total = limit * m.LagThreshold
	}
	return total
}

func partitionLag(m trigger.Kafka, p kafkaPartition, previous map[string]map[int32]int64) int64 {
	if p.committed < 0 {
		switch {
		case m.ScaleToZeroOnInvalidOffset:
			return 0
		case m.OffsetResetPolicy == "latest":
			return 1 // a consumer would start at the end: one replica to get it going
		}
		return p.end
	}
	if m.ExcludePersistentLag {
		last, seen := previous[p.topic][p.partition]
		if seen && last == p.committed {
			return 0 // the consumer has not moved since the last read: likely stuck, more replicas won't help
		}
		if previous[p.topic] == nil {
			previous[p.topic] = map[int32]int64{}
		}
		previous[p.topic][p.partition] = p.committed
	}
	return p.end - p.committed
}
