package scaler

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// runNATS starts an embedded JetStream server on 127.0.0.1 (or opts.Host), on free client and
// monitoring ports unless opts sets them, waits until it is ready and shuts it down when the
// test ends.
func runNATS(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	s := startNATS(t, opts)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return s
}

// startNATS is runNATS without the wait, for cluster members that are ready only together.
func startNATS(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = -1
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = -1
	}
	opts.HTTPHost = opts.Host
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// jsFixture is a stream "orders" with a pull consumer "workers" (explicit acks).
type jsFixture struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	consumer jetstream.Consumer
	held     []jetstream.Msg // fetched, not acked yet
}

func newJSFixture(t testing.TB, url string, replicas int, natsOpts ...nats.Option) *jsFixture {
	t.Helper()
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A new cluster takes a moment to elect its meta leader: retry until the stream exists.
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		_, err = js.CreateStream(attempt, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}, Replicas: replicas})
		cancelAttempt()
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	c, err := js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, Replicas: replicas})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	return &jsFixture{nc: nc, js: js, consumer: c}
}

func (f *jsFixture) publish(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		if _, err := f.js.Publish(context.Background(), "orders.new", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// fetch takes n messages without acking them.
func (f *jsFixture) fetch(t testing.TB, n int) {
	t.Helper()
	batch, err := f.consumer.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		f.held = append(f.held, m)
		got++
	}
	if got != n {
		t.Fatalf("fetched %d messages, want %d (%v)", got, n, batch.Error())
	}
}

func (f *jsFixture) ackAll(t testing.TB) {
	t.Helper()
	for _, m := range f.held {
		if err := m.DoubleAck(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	f.held = nil
}

func natsMeta(endpoint string, kv ...string) map[string]string {
	return withKV(map[string]string{"natsServerMonitoringEndpoint": endpoint, "stream": "orders", "consumer": "workers"}, kv)
}

func TestNATSJetStreamLag(t *testing.T) {
	s := runNATS(t, &server.Options{})
	f := newJSFixture(t, s.ClientURL(), 1)
	endpoint := s.MonitorAddr().String()
	scaler := build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{})
	runSteps(t, scaler, []step{
		{"empty stream", func() {}, 0},
		{"10 published", func() { f.publish(t, 10) }, 10},
		{"3 fetched, not acked: still lag", func() { f.fetch(t, 3) }, 10},
		{"3 acked", func() { f.ackAll(t) }, 7},
		{"5 more published", func() { f.publish(t, 5) }, 12},
		{"all fetched and acked", func() { f.fetch(t, 12); f.ackAll(t) }, 0},
	})

	t.Run("a consumer that does not exist reads the stream's last sequence", func(t *testing.T) {
		got, err := readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint, "consumer", "nobody"), nil, Deps{}))
		if err != nil || got != 15 {
			t.Errorf("Read = %v, %v; want 15", got, err)
		}
	})
	t.Run("a stream that does not exist is an error", func(t *testing.T) {
		got, err := readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint, "stream", "missing"), nil, Deps{}))
		if err == nil || !strings.Contains(err.Error(), `stream "missing"`) {
			t.Errorf("Read = %v, %v; want an error naming the stream", got, err)
		}
	})
	t.Run("another account is an error", func(t *testing.T) {
		got, err := readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint, "account", "OTHER"), nil, Deps{}))
		if err == nil || !strings.Contains(err.Error(), `account "OTHER"`) {
			t.Errorf("Read = %v, %v; want an error naming the account", got, err)
		}
	})
	t.Run("https against an http endpoint is an error", func(t *testing.T) {
		got, err := readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint, "useHttps", "true"), nil, Deps{}))
		if err == nil {
			t.Errorf("Read = %v, nil; want an error", got)
		}
	})
	t.Run("server stopped", func(t *testing.T) {
		s.Shutdown()
		s.WaitForShutdown()
		got, err := readOnce(t, scaler)
		if err == nil {
			t.Errorf("Read = %v, nil after the server stopped; want an error", got)
		}
	})
}

func TestNATSJetStreamNamedAccount(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nats.conf")
	text := `accounts: { ORDERS: { jetstream: enabled, users: [{user: app, password: pw}] } }`
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	s := runNATS(t, opts)
	f := newJSFixture(t, s.ClientURL(), 1, nats.UserInfo("app", "pw"))
	f.publish(t, 4)
	endpoint := s.MonitorAddr().String()
	got, err := readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint), map[string]string{"account": "ORDERS"}, Deps{}))
	if err != nil || got != 4 {
		t.Errorf("account ORDERS: Read = %v, %v; want 4", got, err)
	}
	got, err = readOnce(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{}))
	if err == nil {
		t.Errorf("default account $G has no such stream, yet Read = %v, nil", got)
	}
}

// TestNATSJetStreamClusterFollowsTheLeader runs three servers on 127.0.0.1-3 sharing one
// monitoring port, the layout KEDA's leader lookup assumes (one host per node), and checks the
// scaler reads from the consumer leader, also after the leader moves.
func TestNATSJetStreamClusterFollowsTheLeader(t *testing.T) {
	hosts := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	monitor := freePortOn(t, hosts)
	routes := make([]int, len(hosts))
	var routeURLs []string
	for i, h := range hosts {
		routes[i] = freePortOn(t, []string{h})
		routeURLs = append(routeURLs, fmt.Sprintf("nats://%s:%d", h, routes[i]))
	}
	var servers []*server.Server
	for i, h := range hosts {
		servers = append(servers, startNATS(t, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: h, HTTPPort: monitor,
			Cluster: server.ClusterOpts{Name: "ebb", Host: h, Port: routes[i]},
			Routes:  server.RoutesFromStr(strings.Join(routeURLs, ",")),
		}))
	}
	for _, s := range servers {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatal("clustered nats-server not ready")
		}
	}
	f := newJSFixture(t, servers[0].ClientURL(), 3)
	f.publish(t, 9)
	f.fetch(t, 2)

	scaler := build(t, "nats-jetstream", natsMeta(net.JoinHostPort(hosts[0], strconv.Itoa(monitor))), nil, Deps{})
	n := scaler.(*natsJetStream)
	for round := range 3 {
		info, err := f.consumer.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// A cluster's monitoring data converges after a change (new consumer, new leader):
		// read until the scaler sees the leader the API reports, for a bounded time.
		var got float64
		for deadline := time.Now().Add(10 * time.Second); ; {
			got, err = readOnce(t, scaler)
			if err == nil && got == 9 && n.leaderName == info.Cluster.Leader || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got != 9 {
			t.Errorf("round %d: Read = %v, want 9", round, got)
		}
		if n.leaderName != info.Cluster.Leader {
			t.Errorf("round %d: scaler read from %q, the consumer leader is %q", round, n.leaderName, info.Cluster.Leader)
		}
		stepDown(t, f, info.Cluster.Leader)
	}
}

// stepDown asks the consumer leader to step down and waits until another server leads.
func stepDown(t *testing.T, f *jsFixture, old string) {
	t.Helper()
	if _, err := f.nc.Request("$JS.API.CONSUMER.LEADER.STEPDOWN.orders.workers", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		// Short tries: during the election an info request may go unanswered.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		info, err := f.consumer.Info(ctx)
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader != "" && info.Cluster.Leader != old {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("consumer leader did not move from %s", old)
}

// freePortOn finds a port free on every one of hosts.
func freePortOn(t testing.TB, hosts []string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		free := true
		for _, h := range hosts[1:] {
			other, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			other.Close()
		}
		l.Close()
		if free {
			return port
		}
	}
	t.Fatalf("no port free on all of %v", hosts)
	return 0
}

func BenchmarkNATSJetStreamRead(b *testing.B) {
	s := runNATS(b, &server.Options{})
	f := newJSFixture(b, s.ClientURL(), 1)
	f.publish(b, 10)
	scaler := build(b, "nats-jetstream", natsMeta(s.MonitorAddr().String()), nil, Deps{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scaler.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
