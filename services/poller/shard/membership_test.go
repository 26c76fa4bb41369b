package shard_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/services/poller/shard"
)

const ttl = 2 * time.Second

func startBus(t *testing.T) *bustest.Bus {
	return bustest.Start(t, func(c *bus.Config) { c.PollerTTL = ttl })
}

// member joins as its own poller connection, as a replica would.
type member struct {
	*shard.Membership
	conn   *bus.Conn
	cancel context.CancelFunc
}

func join(t *testing.T, b *bustest.Bus, group, id string) *member {
	t.Helper()
	conn := b.Connect(t, bus.RolePoller)
	kv, err := conn.JetStream().KeyValue(t.Context(), bus.PollersBucket(conn.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := shard.Join(ctx, kv, shard.Config{Group: group, ID: id, Log: bustest.Logger(t)})
	if err != nil {
		cancel()
		t.Fatalf("join %s: %v", id, err)
	}
	t.Cleanup(func() { cancel(); <-m.Done() })
	return &member{Membership: m, conn: conn, cancel: cancel}
}

// waitMembers waits until m sees want, failing after within.
func waitMembers(t *testing.T, m *member, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		changed := m.Changed()
		if slices.Equal(m.Members(), want) {
			return time.Since(start)
		}
		select {
		case <-changed:
		case <-time.After(time.Until(start.Add(within))):
			t.Fatalf("members after %v (-want +got):\n%s", within, cmp.Diff(want, m.Members()))
		}
	}
}

func TestMembership(t *testing.T) {
	b := startBus(t)
	p0 := join(t, b, "all", "p0")
	waitMembers(t, p0, []string{"p0"}, time.Second)
	p1 := join(t, b, "all", "p1")
	p2 := join(t, b, "all", "p2")
	other := join(t, b, "kafka", "k0")
	all := []string{"p0", "p1", "p2"}
	for _, m := range []*member{p0, p1, p2} {
		waitMembers(t, m, all, time.Second)
	}
	waitMembers(t, other, []string{"k0"}, time.Second)

	t.Run("a replica that leaves is gone at once", func(t *testing.T) {
		p1.cancel()
		<-p1.Done()
		if took := waitMembers(t, p0, []string{"p0", "p2"}, ttl/2); took > ttl/2 {
			t.Errorf("leave seen after %v", took)
		}
	})
	t.Run("a replica that dies is gone after the TTL", func(t *testing.T) {
		p2.conn.Close() // no heartbeat and no leave: a crash
		p2.cancel()
		took := waitMembers(t, p0, []string{"p0"}, 3*ttl)
		t.Logf("death seen after %v (TTL %v)", took, ttl)
	})
	t.Run("owners split keys and agree", func(t *testing.T) {
		p3 := join(t, b, "all", "p3")
		waitMembers(t, p0, []string{"p0", "p3"}, time.Second)
		waitMembers(t, p3, []string{"p0", "p3"}, time.Second)
		for _, k := range []string{"a.so.x.0", "a.so.x.1", "b.sj.y.0", "c.so.z.3"} {
			if p0.Owns(k) == p3.Owns(k) {
				t.Errorf("key %s: p0 owns %v, p3 owns %v; want exactly one", k, p0.Owns(k), p3.Owns(k))
			}
		}
	})
}

func TestJoinRefusesBadNames(t *testing.T) {
	b := startBus(t)
	conn := b.Connect(t, bus.RolePoller)
	kv, err := conn.JetStream().KeyValue(t.Context(), bus.PollersBucket(conn.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = shard.Join(t.Context(), kv, shard.Config{Group: "all", ID: "pod.with.dots"})
	if want := `join pollers: id "pod.with.dots": want letters, digits, '-', '_' or '='`; err == nil || err.Error() != want {
		t.Errorf("Join error = %v, want %q", err, want)
	}
}

func TestJoinNeedsATTL(t *testing.T) {
	b := startBus(t)
	admin := b.ConnectInProcess(t, bus.RoleAdmin)
	kv, err := admin.JetStream().CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "forever"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = shard.Join(t.Context(), kv, shard.Config{Group: "all", ID: "p0"})
	if want := "join pollers: bucket forever has no TTL, so a dead replica would never leave"; err == nil || err.Error() != want {
		t.Errorf("Join error = %v, want %q", err, want)
	}
}
