package scaler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	redisserver "ebb.dev/test/servers/redis"
)

func TestKeyspaceEventsOn(t *testing.T) {
	tests := map[string]struct {
		flags, classes string
		want           bool
	}{
		"off":                            {flags: "", classes: "lszh", want: false},
		"all events, keyspace":           {flags: "AK", classes: "lszh", want: true},
		"list events, keyspace":          {flags: "lK", classes: "lszh", want: true},
		"list events for a stream":       {flags: "lK", classes: "t", want: false},
		"stream events, keyspace":        {flags: "tK", classes: "t", want: true},
		"all events, keyevent only":      {flags: "AE", classes: "lszh", want: false},
		"keyspace, generic events only":  {flags: "gK", classes: "lszh", want: false},
		"keyspace and keyevent, hashes":  {flags: "hKE", classes: "lszh", want: true},
		"keyspace with no event classes": {flags: "K", classes: "t", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyspaceEventsOn(tc.flags, tc.classes); got != tc.want {
				t.Errorf("keyspaceEventsOn(%q, %q) = %v, want %v", tc.flags, tc.classes, got, tc.want)
			}
		})
	}
}

// subscribers is how many clients listen to key's keyspace notifications in database 0.
func subscribers(t testing.TB, admin *redis.Client, key string) int64 {
	t.Helper()
	channel := "__keyspace@0__:" + key
	n, err := admin.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n[channel]
}

func TestRedisWakeUps(t *testing.T) {
	srv := redisserver.StartT(t, redisserver.Options{})
	ctx := context.Background()
	admin := redisAdmin(t, srv.Addr(), 0, "")
	must(t, admin.ConfigSet(ctx, "notify-keyspace-events", "KA"))
	meta := func(kv ...string) map[string]string { return withKV(map[string]string{"address": srv.Addr()}, kv) }
	subscribed := func(t *testing.T, key string, n int64) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("%d subscribers of %s", n, key), 5*time.Second, func() bool { return subscribers(t, admin, key) == n })
	}

	t.Run("a push to a list wakes, a pop does not", func(t *testing.T) {
		w := wakeCounter(t, build(t, "redis", meta("listName", "jobs"), nil, Deps{}))
		subscribed(t, "jobs", 1)
		must(t, admin.RPush(ctx, "jobs", "a", "b"))
		w.await(t, "a wake-up after RPUSH", time.Second)
		must(t, admin.LPop(ctx, "jobs"))
		must(t, admin.Del(ctx, "jobs"))
		w.none(t, "after LPOP and DEL", 300*time.Millisecond)
		must(t, admin.SAdd(ctx, "other", "a"))
		w.none(t, "after a change to another key", 300*time.Millisecond)
	})

	t.Run("an entry added to a stream wakes", func(t *testing.T) {
		w := wakeCounter(t, build(t, "redis-streams", meta("stream", "events", "consumerGroup", "g"), nil, Deps{}))
		subscribed(t, "events", 1)
		must(t, admin.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []string{"k", "v"}}))
		w.await(t, "a wake-up after XADD", time.Second)
	})

	t.Run("one subscription per key, shared, closed after the last trigger", func(t *testing.T) {
		pool := NewPool()
		d := Deps{Pool: pool}
		a1, a2 := build(t, "redis", meta("listName", "shared"), nil, d), build(t, "redis", meta("listName", "shared"), nil, d)
		b := build(t, "redis", meta("listName", "alone"), nil, d)
		w1, w2, wb := wakeCounter(t, a1), wakeCounter(t, a2), wakeCounter(t, b)
		if n := pool.Len(); n != 3 {
			t.Errorf("pool holds %d clients, want 3: the redis client and one subscription per key", n)
		}
		subscribed(t, "shared", 1)
		subscribed(t, "alone", 1)
		must(t, admin.RPush(ctx, "shared", "x"))
		w1.await(t, "the first trigger woken", time.Second)
		w2.await(t, "the second trigger woken", time.Second)
		wb.none(t, "the trigger on another key", 200*time.Millisecond)

		w1.stop()
		must(t, admin.RPush(ctx, "shared", "y"))
		w2.await(t, "the remaining trigger woken", time.Second)
		w1.none(t, "the stopped trigger", 200*time.Millisecond)
		if n := subscribers(t, admin, "shared"); n != 1 {
			t.Errorf("%d subscriptions to the shared key with one trigger left, want 1", n)
		}
		w2.stop()
		subscribed(t, "shared", 0)
		if n := pool.Len(); n != 2 {
			t.Errorf("pool holds %d clients after the shared key's triggers stopped, want 2", n)
		}
	})

	t.Run("a lost subscription is re-established and wakes to catch up", func(t *testing.T) {
		log, logs := capturedLogger(t)
		w := wakeCounter(t, build(t, "redis", meta("listName", "lost"), nil, Deps{Log: log}))
		subscribed(t, "lost", 1)
		must(t, admin.ClientKillByFilter(ctx, "TYPE", "pubsub"))
		logs.await(t, "push wake-ups failed", 2*time.Second)
		subscribed(t, "lost", 1)
		w.await(t, "a catch-up wake-up once subscribed again", 2*time.Second)
		logs.await(t, "push wake-ups re-established", time.Second)
		must(t, admin.LPush(ctx, "lost", "x"))
		w.await(t, "a wake-up after LPUSH on the new subscription", time.Second)
	})

	t.Run("without keyspace notifications no wake-up, a clear log line, until they are set", func(t *testing.T) {
		must(t, admin.ConfigSet(ctx, "notify-keyspace-events", ""))
		t.Cleanup(func() { must(t, admin.ConfigSet(ctx, "notify-keyspace-events", "KA")) })
		log, logs := capturedLogger(t)
		w := wakeCounter(t, build(t, "redis", meta("listName", "silent"), nil, Deps{Log: log}))
		subscribed(t, "silent", 1)
		logs.await(t, "keyspace notifications are off on the server", time.Second)
		must(t, admin.RPush(ctx, "silent", "x"))
		w.none(t, "a push with notifications off", 500*time.Millisecond)
		must(t, admin.ConfigSet(ctx, "notify-keyspace-events", "Kl"))
		must(t, admin.RPush(ctx, "silent", "y"))
		w.await(t, "a wake-up once notifications are on", time.Second)
	})
}
