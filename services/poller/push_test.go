package poller_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/scaler"
	pgserver "ebb.dev/test/servers/postgres"
	redisserver "ebb.dev/test/servers/redis"
)

// pushEnv is a replica reading real sources through the builtin scalers.
type pushEnv struct {
	*env
	p *poller.Replica
}

func newPushEnv(t *testing.T) *pushEnv {
	e := newEnv(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return &pushEnv{env: e, p: e.startWith(t, "p0", poller.Scalers(scaler.Builtin(), scaler.Deps{Log: log}))}
}

// awaitFirst sets a ScaledObject polling tr every 30 s and returns the key of its reading
// once the first reading is in.
func (e *pushEnv) awaitFirst(t *testing.T, name string, tr v1alpha1.ScaleTriggers) string {
	t.Helper()
	e.p.Set(t.Context(), scaledObject(name, 1, 30, tr))
	k := key(name, msg.ScaledObject, 0)
	e.rec.Wait(t, "the first reading", 5*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) > 0 })
	if r, _ := e.rec.Last(k); r.Error != "" {
		t.Fatalf("first reading failed: %s", r.Error)
	}
	return k
}

// awaitPushed pushes work to the source once the trigger's first poll is more than the
// debounce gap old, and returns how long the reading of want took: far less than the 30 s to
// the next slot.
func (e *pushEnv) awaitPushed(t *testing.T, k string, push func(), want float64) time.Duration {
	t.Helper()
	first, _ := e.rec.Last(k)
	waitFor(t, "the debounce gap after the first poll", time.Second, func() bool { return time.Since(first.ObservedAt) > 150*time.Millisecond })
	pushed := time.Now()
	push()
	e.rec.Wait(t, fmt.Sprintf("a reading of %v within a second of the push (pollingInterval 30 s)", want), time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k)
		return r.Value == want
	})
	r, _ := e.rec.Last(k)
	return r.ObservedAt.Sub(pushed)
}

// awaitBurst pushes 1,000 times over about a second and checks that the trigger was polled
// at most once per 100 ms (the first at once), and at least a few times, up to a reading of want.
func (e *pushEnv) awaitBurst(t *testing.T, k string, push func(i int), want float64) {
	t.Helper()
	before, start := len(e.rec.Readings(k)), time.Now()
	for i := range 1000 {
		push(i)
		if i%10 == 9 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	e.rec.Wait(t, fmt.Sprintf("a reading of %v after the burst", want), time.Second, func(map[string][]msg.Reading) bool {
		r, _ := e.rec.Last(k)
		return r.Value == want
	})
	elapsed, polls := time.Since(start), len(e.rec.Readings(k))-before
	if most := int(elapsed/(100*time.Millisecond)) + 1; polls > most || polls < 5 {
		t.Errorf("1,000 pushes over %v brought %d polls, want 5 to %d", elapsed, polls, most)
	}
	t.Logf("1,000 pushes over %v: %d polls", elapsed, polls)
}

func TestPushWakeUpsOnRealSources(t *testing.T) {
	t.Run("redis list", func(t *testing.T) {
		srv := redisserver.StartT(t, redisserver.Options{})
		admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
		t.Cleanup(func() { admin.Close() })
		ctx := context.Background()
		mustRedis(t, admin.ConfigSet(ctx, "notify-keyspace-events", "KA"))
		e := newPushEnv(t)
		k := e.awaitFirst(t, "lists", v1alpha1.ScaleTriggers{Type: "redis", Metadata: map[string]string{"address": srv.Addr(), "listName": "jobs"}})
		waitFor(t, "the keyspace subscription", 5*time.Second, func() bool { return redisSubscribers(t, admin, "jobs") == 1 })
		took := e.awaitPushed(t, k, func() { mustRedis(t, admin.RPush(ctx, "jobs", "a", "b", "c")) }, 3)
		t.Logf("redis RPUSH to reading: %v", took)

		e.awaitBurst(t, k, func(i int) { mustRedis(t, admin.RPush(ctx, "jobs", i)) }, 1003)
	})

	t.Run("redis stream", func(t *testing.T) {
		srv := redisserver.StartT(t, redisserver.Options{})
		admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
		t.Cleanup(func() { admin.Close() })
		ctx := context.Background()
		mustRedis(t, admin.ConfigSet(ctx, "notify-keyspace-events", "Kt"))
		e := newPushEnv(t)
		k := e.awaitFirst(t, "streams", v1alpha1.ScaleTriggers{Type: "redis-streams", Metadata: map[string]string{"address": srv.Addr(), "stream": "events"}})
		waitFor(t, "the keyspace subscription", 5*time.Second, func() bool { return redisSubscribers(t, admin, "events") == 1 })
		took := e.awaitPushed(t, k, func() { mustRedis(t, admin.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []string{"k", "v"}})) }, 1)
		t.Logf("redis XADD to reading: %v", took)
	})

	t.Run("redis without keyspace notifications polls on schedule only", func(t *testing.T) {
		srv := redisserver.StartT(t, redisserver.Options{})
		admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
		t.Cleanup(func() { admin.Close() })
		e := newPushEnv(t)
		k := e.awaitFirst(t, "quiet", v1alpha1.ScaleTriggers{Type: "redis", Metadata: map[string]string{"address": srv.Addr(), "listName": "jobs"}})
		waitFor(t, "the keyspace subscription", 5*time.Second, func() bool { return redisSubscribers(t, admin, "jobs") == 1 })
		mustRedis(t, admin.RPush(context.Background(), "jobs", "a"))
		time.Sleep(1500 * time.Millisecond)
		if n := len(e.rec.Readings(k)); n != 1 {
			t.Errorf("%d readings within 1.5 s of a push, want only the first: the next comes at the 30 s slot", n)
		}
	})

	t.Run("postgresql NOTIFY", func(t *testing.T) {
		srv := pgserver.StartT(t, pgserver.Options{})
		if err := srv.SQL(context.Background(), "postgres", "CREATE TABLE jobs (id serial)"); err != nil {
			t.Fatal(err)
		}
		admin, err := pgx.Connect(context.Background(), srv.URL(pgserver.User, srv.Password, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close(context.Background()) })
		e := newPushEnv(t)
		e.cluster.PutSecret(ns, "pg", map[string]string{"connection": srv.URL(pgserver.User, srv.Password, "postgres")})
		e.cluster.PutTriggerAuthentication(ns, "pg", v1alpha1.TriggerAuthenticationSpec{
			SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "connection", Name: "pg", Key: "connection"}},
		})
		k := e.awaitFirst(t, "tables", v1alpha1.ScaleTriggers{Type: "postgresql", AuthenticationRef: &v1alpha1.AuthenticationRef{Name: "pg"},
			Metadata: map[string]string{"query": "SELECT count(*) FROM jobs", "targetQueryValue": "5", "notifyChannel": "jobs"}})
		waitFor(t, "the LISTEN connection", 5*time.Second, func() bool {
			var n int
			if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ebb-poller wake-ups'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		})
		took := e.awaitPushed(t, k, func() {
			if _, err := admin.Exec(context.Background(), "INSERT INTO jobs DEFAULT VALUES; NOTIFY jobs"); err != nil {
				t.Fatal(err)
			}
		}, 1)
		t.Logf("postgresql NOTIFY to reading: %v", took)
	})

	t.Run("nats-jetstream publish", func(t *testing.T) {
		s := runNATSSource(t)
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		e := newPushEnv(t)
		k := e.awaitFirst(t, "streams", v1alpha1.ScaleTriggers{Type: "nats-jetstream", Metadata: map[string]string{
			"natsServerMonitoringEndpoint": s.MonitorAddr().String(), "stream": "orders", "consumer": "workers"}})
		waitFor(t, "the poller's subscription to the stream's subjects", 5*time.Second, func() bool { return natsSubscribed(t, s) })
		took := e.awaitPushed(t, k, func() {
			if _, err := js.Publish(ctx, "orders.new", []byte("1")); err != nil {
				t.Fatal(err)
			}
		}, 1)
		t.Logf("nats-jetstream publish to reading: %v", took)
		e.awaitBurst(t, k, func(i int) {
			if err := nc.Publish("orders.burst", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}, 1001)
	})
}

func mustRedis(t *testing.T, cmd redis.Cmder) {
	t.Helper()
	if err := cmd.Err(); err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
}

func redisSubscribers(t *testing.T, admin *redis.Client, key string) int64 {
	channel := "__keyspace@0__:" + key
	n, err := admin.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n[channel]
}

// runNATSSource starts an embedded JetStream server as an event source, with monitoring.
func runNATSSource(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, HTTPHost: "127.0.0.1", HTTPPort: -1,
		JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return s
}

// natsSubscribed reports whether the poller's wake-up connection subscribes to the stream.
func natsSubscribed(t *testing.T, s *server.Server) bool {
	cz, err := s.Connz(&server.ConnzOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cz.Conns {
		for _, sub := range c.Subs {
			if c.Name == "ebb-poller" && !strings.HasPrefix(sub, "_INBOX.") {
				return true
			}
		}
	}
	return false
}
