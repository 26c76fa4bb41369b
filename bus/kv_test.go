package bus_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
)

func TestWatchKeysAppliesStoredKeysThenFollows(t *testing.T) {
	b := bustest.Start(t)
	conn := b.Connect(t, bus.RoleAdmin)
	ctx := t.Context()
	kv, err := conn.JetStream().KeyValue(ctx, bus.PollersBucket(msg.DefaultPrefix))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"group.a", "group.b", "other.c"} {
		if _, err := kv.PutString(ctx, k, "x"); err != nil {
			t.Fatal(err)
		}
	}
	var stored []string
	w, err := bus.WatchKeys(ctx, kv, "group.*", func(e jetstream.KeyValueEntry) { stored = append(stored, e.Key()) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	slices.Sort(stored)
	if want := []string{"group.a", "group.b"}; !slices.Equal(stored, want) {
		t.Errorf("applied before returning: %v, want %v", stored, want)
	}
	if _, err := kv.PutString(ctx, "group.d", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-w.Updates():
		if e == nil || e.Key() != "group.d" {
			t.Errorf("next update = %v, want group.d", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update for group.d")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := bus.WatchKeys(cancelled, kv, "group.*", func(jetstream.KeyValueEntry) {}); err == nil {
		t.Error("WatchKeys on a cancelled context succeeded")
	}
}
