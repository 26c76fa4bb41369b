package scaler

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	redisserver "ebb.dev/test/servers/redis"
)

func TestRedisStreamsFollowsStreams(t *testing.T) {
	srv := redisserver.StartT(t, redisserver.Options{})
	ctx := context.Background()
	c := redisAdmin(t, srv.Addr(), 0, "")
	add := func(n int) func() {
		return func() {
			for range n {
				must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []string{"k", "v"}}))
			}
		}
	}
	deliver := func(n int64) func() {
		return func() {
			must(t, c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "w1", Streams: []string{"events", ">"}, Count: n}))
		}
	}
	ackAll := func() {
		p, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "events", Group: "workers", Start: "-", End: "+", Count: 100}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p {
			must(t, c.XAck(ctx, "events", "workers", e.ID))
		}
	}
	createGroup := func() { must(t, c.XGroupCreateMkStream(ctx, "events", "workers", "0")) }
	tests := map[string]struct {
		meta  map[string]string
		steps []step
	}{
		"stream length": {
			meta: map[string]string{"stream": "events"},
			steps: []step{
				{"no stream yet", func() {}, 0},
				{"three added", add(3), 3},
				{"delivery does not shorten it", func() { createGroup(); deliver(2)() }, 3},
				{"trimmed", func() { must(t, c.XTrimMaxLen(ctx, "events", 1)) }, 1},
			},
		},
		"pending entries": {
			meta: map[string]string{"stream": "events", "consumerGroup": "workers", "pendingEntriesCount": "10"},
			steps: []step{
				{"group without entries", createGroup, 0},
				{"added, not delivered", add(4), 0},
				{"three delivered", deliver(3), 3},
				{"acknowledged", ackAll, 0},
			},
		},
		"group lag": {
			meta: map[string]string{"stream": "events", "consumerGroup": "workers", "lagCount": "10"},
			steps: []step{
				{"entries before the group exists count", add(5), 5},
				{"group from the start", createGroup, 5},
				{"two delivered", deliver(2), 3},
				{"acknowledging does not change lag", ackAll, 3},
				{"more added", add(4), 7},
				{"all delivered", deliver(100), 0},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			must(t, c.FlushAll(ctx))
			tc.meta["address"] = srv.Addr()
			runSteps(t, build(t, "redis-streams", tc.meta, nil, Deps{}), tc.steps)
		})
	}
	t.Run("activation at the boundary", func(t *testing.T) {
		must(t, c.FlushAll(ctx))
		createGroup()
		meta := map[string]string{"address": srv.Addr(), "stream": "events", "consumerGroup": "workers", "lagCount": "10", "activationLagCount": "3"}
		s, m := build(t, "redis-streams", meta, nil, Deps{}), parse(t, "redis-streams", meta, nil)
		activeAfter(t, s, m, step{"lag 3", add(3), 3}, false)
		activeAfter(t, s, m, step{"lag 4", add(1), 4}, true)
	})
	t.Run("lag Redis cannot tell", func(t *testing.T) {
		must(t, c.FlushAll(ctx))
		createGroup()
		add(3)()
		deliver(1)()
		last, err := c.XRevRangeN(ctx, "events", "+", "-", 1).Result()
		if err != nil {
			t.Fatal(err)
		}
		must(t, c.XDel(ctx, "events", last[0].ID))
		s := build(t, "redis-streams", map[string]string{"address": srv.Addr(), "stream": "events", "consumerGroup": "workers", "lagCount": "1"}, nil, Deps{})
		wantReadErr(t, s, `redis-streams: lag of group "workers" on stream "events": lag unknown to Redis`)
	})
	t.Run("pending entries of a missing group", func(t *testing.T) {
		must(t, c.FlushAll(ctx))
		add(1)()
		s := build(t, "redis-streams", map[string]string{"address": srv.Addr(), "stream": "events", "consumerGroup": "nobody"}, nil, Deps{})
		wantReadErr(t, s, `redis-streams: pending entries of group "nobody" on stream "events": NOGROUP`)
	})
	t.Run("lag of a missing stream", func(t *testing.T) {
		must(t, c.FlushAll(ctx))
		s := build(t, "redis-streams", map[string]string{"address": srv.Addr(), "stream": "events", "consumerGroup": "workers", "lagCount": "1"}, nil, Deps{})
		wantReadErr(t, s, `redis-streams: lag of group "workers" on stream "events": ERR no such key`)
	})
	t.Run("server stopped", func(t *testing.T) {
		must(t, c.FlushAll(ctx))
		add(2)()
		s := build(t, "redis-streams", map[string]string{"address": srv.Addr(), "stream": "events"}, map[string]string{}, Deps{})
		runSteps(t, s, []step{{"before", func() {}, 2}})
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		wantReadErr(t, s, `redis-streams: length of stream "events": `, "connection refused")
	})
}

func TestRedisStreamsCredentials(t *testing.T) {
	srv := redisserver.StartT(t, redisserver.Options{Users: map[string]string{"ebb": "s3cret"}, Password: "default-pw"})
	must(t, redisAdmin(t, srv.Addr(), 2, "default-pw").XAdd(context.Background(), &redis.XAddArgs{Stream: "events", Values: []string{"k", "v"}}))
	meta := map[string]string{"address": srv.Addr(), "stream": "events", "databaseIndex": "2"}
	s := build(t, "redis-streams", meta, map[string]string{"username": "ebb", "password": "s3cret"}, Deps{})
	runSteps(t, s, []step{{"ACL user from the TriggerAuthentication", func() {}, 1}})
	wantReadErr(t, build(t, "redis-streams", meta, nil, Deps{}), "NOAUTH Authentication required.")
}

func TestLagSupport(t *testing.T) {
	tests := map[string]struct {
		info string
		err  string
	}{
		"redis 7":  {info: "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n"},
		"valkey 8": {info: "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n"},
		"redis 6":  {info: "# Server\r\nredis_version:6.2.14\r\n", err: `lagCount needs Redis 7 or later, the server runs "6.2.14"`},
		"unknown":  {info: "# Server\r\n", err: `lagCount needs Redis 7 or later, the server runs ""`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := errString(lagSupport(tc.info)); got != tc.err {
				t.Errorf("lagSupport = %q, want %q", got, tc.err)
			}
		})
	}
}

func BenchmarkRedisStreamsRead(b *testing.B) {
	srv := redisserver.StartT(b, redisserver.Options{})
	ctx := context.Background()
	c := redisAdmin(b, srv.Addr(), 0, "")
	must(b, c.XGroupCreateMkStream(ctx, "events", "workers", "0"))
	for range 100 {
		must(b, c.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []string{"k", "v"}}))
	}
	must(b, c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "w1", Streams: []string{"events", ">"}, Count: 40}))
	for name, tc := range map[string]struct {
		meta map[string]string
		want float64
	}{
		"length":  {map[string]string{"stream": "events"}, 100},
		"pending": {map[string]string{"stream": "events", "consumerGroup": "workers"}, 40},
		"lag":     {map[string]string{"stream": "events", "consumerGroup": "workers", "lagCount": "10"}, 60},
	} {
		b.Run(name, func(b *testing.B) {
			tc.meta["address"] = srv.Addr()
			benchmarkRead(b, build(b, "redis-streams", tc.meta, nil, Deps{}), tc.want)
		})
	}
}
