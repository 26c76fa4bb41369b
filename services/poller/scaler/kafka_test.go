package scaler

import (
	"context"
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"ebb.dev/schemas/trigger"
)

func TestKafkaLag(t *testing.T) {
	p := func(partition int32, committed, end int64) kafkaPartition {
		return kafkaPartition{topic: "orders", partition: partition, committed: committed, end: end}
	}
	base := trigger.Kafka{LagThreshold: 10, OffsetResetPolicy: "latest"}
	with := func(f func(*trigger.Kafka)) trigger.Kafka {
		m := base
		f(&m)
		return m
	}
	tests := map[string]struct {
		m     trigger.Kafka
		parts []kafkaPartition
		want  int64
	}{
		"lag summed over partitions":       {base, []kafkaPartition{p(0, 5, 10), p(1, 0, 3), p(2, 7, 7)}, 8},
		"no partitions":                    {base, nil, 0},
		"uncommitted, latest: 1":           {base, []kafkaPartition{p(0, -1, 100)}, 1},
		"uncommitted, earliest: end":       {with(func(m *trigger.Kafka) { m.OffsetResetPolicy = "earliest"; m.AllowIdleConsumers = true }), []kafkaPartition{p(0, -1, 100)}, 100},
		"uncommitted, zero, latest":        {with(func(m *trigger.Kafka) { m.ScaleToZeroOnInvalidOffset = true }), []kafkaPartition{p(0, -1, 100), p(1, 2, 5)}, 3},
		"uncommitted, zero, earliest":      {with(func(m *trigger.Kafka) { m.ScaleToZeroOnInvalidOffset = true; m.OffsetResetPolicy = "earliest" }), []kafkaPartition{p(0, -1, 100)}, 0},
		"capped at partitions × lag":       {base, []kafkaPartition{p(0, 0, 100), p(1, 0, 100), p(2, 0, 100)}, 30},
		"cap uses whole lagThresholds":     {base, []kafkaPartition{p(0, 0, 39), p(1, 0, 0), p(2, 0, 0)}, 39},
		"one threshold over the cap":       {base, []kafkaPartition{p(0, 0, 40), p(1, 0, 0), p(2, 0, 0)}, 30},
		"idle consumers allowed: no cap":   {with(func(m *trigger.Kafka) { m.AllowIdleConsumers = true }), []kafkaPartition{p(0, 0, 100), p(1, 0, 100), p(2, 0, 100)}, 300},
		"cap at partitions with lag":       {with(func(m *trigger.Kafka) { m.LimitToPartitionsWithLag = true }), []kafkaPartition{p(0, 0, 100), p(1, 5, 5), p(2, 9, 9)}, 10},
		"partitions with lag: none":        {with(func(m *trigger.Kafka) { m.LimitToPartitionsWithLag = true }), []kafkaPartition{p(0, 5, 5)}, 0},
		"partitions with lag: under cap":   {with(func(m *trigger.Kafka) { m.LimitToPartitionsWithLag = true }), []kafkaPartition{p(0, 0, 4), p(1, 0, 5)}, 9},
		"other lagThreshold":               {with(func(m *trigger.Kafka) { m.LagThreshold = 3 }), []kafkaPartition{p(0, 0, 100), p(1, 0, 1)}, 6},
		"persistent lag, first read":       {with(func(m *trigger.Kafka) { m.ExcludePersistentLag = true }), []kafkaPartition{p(0, 5, 10)}, 5},
		"persistent lag ignores no-commit": {with(func(m *trigger.Kafka) { m.ExcludePersistentLag = true }), []kafkaPartition{p(0, -1, 10)}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := kafkaLag(tc.m, tc.parts, map[string]map[int32]int64{}); got != tc.want {
				t.Errorf("kafkaLag = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestKafkaLagExcludesPersistentLagAcrossReads(t *testing.T) {
	m := trigger.Kafka{LagThreshold: 10, OffsetResetPolicy: "latest", ExcludePersistentLag: true, AllowIdleConsumers: true}
	previous := map[string]map[int32]int64{}
	reads := []struct {
		parts []kafkaPartition
		want  int64
	}{
		{[]kafkaPartition{{"orders", 0, 5, 10}, {"orders", 1, 3, 3}}, 5}, // first sight: counted
		{[]kafkaPartition{{"orders", 0, 5, 12}, {"orders", 1, 3, 8}}, 0}, // neither commit moved
		{[]kafkaPartition{{"orders", 0, 8, 12}, {"orders", 1, 3, 8}}, 4}, // partition 0 moved
		{[]kafkaPartition{{"orders", 0, 8, 12}, {"orders", 1, 4, 8}}, 4}, // now partition 1 moved, 0 is stuck
		{[]kafkaPartition{{"audit", 0, 1, 2}, {"orders", 1, 4, 8}}, 1},   // a new topic counts at first sight
	}
	for i, r := range reads {
		if got := kafkaLag(m, r.parts, previous); got != r.want {
			t.Errorf("read %d: lag = %d, want %d", i+1, got, r.want)
		}
	}
}

// kafkaFixture is a kfake cluster with topic orders (3 partitions holding 10, 5 and 7
// records) and group workers that committed 4 on partition 0, 5 on partition 1 and nothing on
// partition 2: lags 6, 0 and "uncommitted". Topic audit (1 partition, 4 records, commit 1)
// and topic unrelated (no commits) are there for the every-topic case.
type kafkaFixture struct {
	cluster *kfake.Cluster
	servers string
	adm     *kadm.Client
	cl      *kgo.Client
}

func newKafkaFixture(t testing.TB, opts ...kfake.Opt) *kafkaFixture {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1),
		kfake.SeedTopics(3, "orders"), kfake.SeedTopics(1, "audit", "unrelated")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f := &kafkaFixture{cluster: c, servers: strings.Join(c.ListenAddrs(), ",")}
	return f
}

// connect opens the fixture's own client (with the cluster's credentials, if any) and seeds
// records and commits.
func (f *kafkaFixture) seed(t testing.TB, opts ...kgo.Opt) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(f.cluster.ListenAddrs()...),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f.cl, f.adm = cl, kadm.NewClient(cl)
	f.produce(t, "orders", 0, 10)
	f.produce(t, "orders", 1, 5)
	f.produce(t, "orders", 2, 7)
	f.produce(t, "audit", 0, 4)
	f.produce(t, "unrelated", 0, 9)
	f.commit(t, "workers", map[string]map[int32]int64{"orders": {0: 4, 1: 5}, "audit": {0: 1}})
}

func (f *kafkaFixture) produce(t testing.TB, topic string, partition int32, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range n {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte("x")}
		if err := f.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to %s/%d: %v", topic, partition, err)
		}
	}
}

func (f *kafkaFixture) commit(t testing.TB, group string, offsets map[string]map[int32]int64) {
	t.Helper()
	var os kadm.Offsets
	for topic, parts := range offsets {
		for p, at := range parts {
			os.AddOffset(topic, p, at, -1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.adm.CommitAllOffsets(ctx, group, os); err != nil {
		t.Fatalf("commit offsets of %s: %v", group, err)
	}
}

// meta is trigger metadata for the fixture, with extra key/value pairs.
func (f *kafkaFixture) meta(kv ...string) map[string]string {
	return withKV(map[string]string{"bootstrapServers": f.servers, "consumerGroup": "workers", "topic": "orders"}, kv)
}

func TestKafkaAgainstCluster(t *testing.T) {
	f := newKafkaFixture(t)
	f.seed(t)
	tests := map[string]struct {
		meta map[string]string
		want float64
	}{
		"defaults: 6 + 0 + 1 for the uncommitted partition":  {f.meta(), 7},
		"earliest: the uncommitted partition counts its end": {f.meta("offsetResetPolicy", "earliest"), 6 + 7},
		"scaleToZeroOnInvalidOffset":                         {f.meta("scaleToZeroOnInvalidOffset", "true"), 6},
		"lagThreshold 1 caps at 3 partitions":                {f.meta("lagThreshold", "1"), 3},
		"lagThreshold 2 is under the cap of 6":               {f.meta("lagThreshold", "2"), 7},
		"allowIdleConsumers lifts the cap":                   {f.meta("lagThreshold", "1", "allowIdleConsumers", "true"), 7},
		"limitToPartitionsWithLag caps at 2 partitions":      {f.meta("lagThreshold", "1", "limitToPartitionsWithLag", "true"), 2},
		"partitionLimitation 0,1":                            {f.meta("partitionLimitation", "0,1"), 6},
		"partitionLimitation 1-2":                            {f.meta("partitionLimitation", "1-2"), 1},
		"activation threshold does not change the value":     {f.meta("activationLagThreshold", "100"), 7},
		"every topic the group committed to":                 {f.meta("topic", ""), 7 + 3},
		"every topic, capped at 4 partitions":                {f.meta("topic", "", "lagThreshold", "2"), 8},
		"a group that committed nothing, on a topic":         {f.meta("consumerGroup", "nobody"), 3},
		"a group that committed nothing, every topic":        {f.meta("consumerGroup", "nobody", "topic", ""), 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := build(t, "kafka", tc.meta, nil, Deps{})
			got, err := readOnce(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Read = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKafkaValuesFollowTheCluster(t *testing.T) {
	f := newKafkaFixture(t)
	f.seed(t)
	s := build(t, "kafka", f.meta("allowIdleConsumers", "true"), nil, Deps{})
	runSteps(t, s, []step{
		{"seeded", func() {}, 7},
		{"20 more records on partition 1", func() { f.produce(t, "orders", 1, 20) }, 27},
		{"partition 2 commits at 3", func() { f.commit(t, "workers", map[string]map[int32]int64{"orders": {2: 3}}) }, 6 + 20 + 4},
		{"everything consumed", func() {
			f.commit(t, "workers", map[string]map[int32]int64{"orders": {0: 10, 1: 25, 2: 7}})
		}, 0},
	})
}

func TestKafkaExcludePersistentLagAgainstCluster(t *testing.T) {
	f := newKafkaFixture(t)
	f.seed(t)
	s := build(t, "kafka", f.meta("excludePersistentLag", "true"), nil, Deps{})
	for i, want := range []float64{7, 1} { // then partition 0's lag of 6 has not moved
		if got, err := readOnce(t, s); err != nil || got != want {
			t.Fatalf("read %d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	f.commit(t, "workers", map[string]map[int32]int64{"orders": {0: 8}})
	if got, err := readOnce(t, s); err != nil || got != 2+1 {
		t.Fatalf("after partition 0 moved: %v, %v; want 3", got, err)
	}
}

func TestKafkaErrors(t *testing.T) {
	f := newKafkaFixture(t)
	f.seed(t)
	s := build(t, "kafka", f.meta("topic", "missing"), nil, Deps{})
	if got, err := readOnce(t, s); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing topic: Read = %v, %v; want an error naming the topic", got, err)
	}

	s = build(t, "kafka", f.meta(), nil, Deps{})
	if got, err := readOnce(t, s); err != nil || got != 7 {
		t.Fatalf("before stop: %v, %v", got, err)
	}
	f.cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	got, err := s.Read(ctx)
	if err == nil {
		t.Fatalf("cluster stopped: Read = %v, nil; want an error", got)
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Errorf("Read took %v, past its 2 s deadline", waited)
	}
}

func TestKafkaSASL(t *testing.T) {
	for name, tc := range map[string]struct{ method, sasl string }{
		"plain":         {"PLAIN", "plaintext"},
		"scram-sha-256": {"SCRAM-SHA-256", "scram_sha256"},
		"scram-sha-512": {"SCRAM-SHA-512", "scram_sha512"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newKafkaFixture(t, kfake.EnableSASL(), kfake.Superuser(tc.method, "ebb", "s3cret"),
				kfake.Superuser("SCRAM-SHA-256", "admin", "admin"))
			f.seed(t, kgo.SASL(scram.Auth{User: "admin", Pass: "admin"}.AsSha256Mechanism()))
			s := build(t, "kafka", f.meta(), map[string]string{"sasl": tc.sasl, "username": "ebb", "password": "s3cret"}, Deps{})
			if got, err := readOnce(t, s); err != nil || got != 7 {
				t.Errorf("Read = %v, %v; want 7", got, err)
			}
			wrong := build(t, "kafka", f.meta(), map[string]string{"sasl": tc.sasl, "username": "ebb", "password": "wrong"}, Deps{})
			got, err := readOnce(t, wrong)
			if err == nil {
				t.Fatalf("wrong password: Read = %v, nil; want an error", got)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error quotes the password: %v", err)
			}
		})
	}
}

func TestKafkaTLS(t *testing.T) {
	p := newTestPKI(t)
	f := newKafkaFixture(t, kfake.TLS(p.serverTLS(t)))
	pair := p.clientPair(t)
	f.seed(t, kgo.DialTLSConfig(&tls.Config{RootCAs: p.roots(), Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1"}))
	auth := map[string]string{"tls": "enable", "ca": string(p.CA), "cert": string(p.ClientCert), "key": string(p.ClientKey)}
	s := build(t, "kafka", f.meta(), auth, Deps{})
	if got, err := readOnce(t, s); err != nil || got != 7 {
		t.Errorf("with client certificate: Read = %v, %v; want 7", got, err)
	}
	noCert := build(t, "kafka", f.meta(), map[string]string{"tls": "enable", "ca": string(p.CA)}, Deps{})
	if got, err := readOnce(t, noCert); err == nil {
		t.Errorf("without client certificate: Read = %v, nil; want an error", got)
	}
	noCA := build(t, "kafka", f.meta(), map[string]string{"tls": "enable", "cert": string(p.ClientCert), "key": string(p.ClientKey)}, Deps{})
	if got, err := readOnce(t, noCA); err == nil {
		t.Errorf("server certificate from an unknown CA: Read = %v, nil; want an error", got)
	}
}

func TestKafkaSharesOneClientPerClusterAndCredentials(t *testing.T) {
	f := newKafkaFixture(t)
	f.seed(t)
	pool := NewPool()
	var scalers []Scaler
	for _, topic := range []string{"orders", "audit", "orders"} {
		scalers = append(scalers, build(t, "kafka", f.meta("topic", topic), nil, Deps{Pool: pool}))
	}
	other := build(t, "kafka", f.meta(), map[string]string{"sasl": "plaintext", "username": "u", "password": "p"}, Deps{Pool: pool})
	if pool.Len() != 2 {
		t.Errorf("pool holds %d clients for one cluster with two sets of credentials, want 2", pool.Len())
	}
	for _, s := range scalers {
		if _, err := readOnce(t, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range append(scalers, other) {
		if err := s.(io.Closer).Close(); err != nil {
			t.Fatal(err)
		}
	}
	if pool.Len() != 0 {
		t.Errorf("pool holds %d clients after every scaler closed", pool.Len())
	}
}

func BenchmarkKafkaRead(b *testing.B) {
	f := newKafkaFixture(b)
	f.seed(b)
	s := build(b, "kafka", f.meta(), nil, Deps{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
