package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// Each role may publish and subscribe exactly where its service needs to; a denial comes back
// from Publish or Subscribe as an error, never as a message that silently goes nowhere.
func TestCorePermissions(t *testing.T) {
	b := bustest.Start(t)
	p := msg.DefaultPrefix
	reading, decision, action := msgtest.Reading(), msgtest.Decision(), msgtest.Action()
	tests := map[string]struct {
		role    bus.Role
		publish msg.Message // publish this, or
		sub     string      // subscribe to this
		allowed bool
	}{
		"poller publishes readings":          {role: bus.RolePoller, publish: reading, allowed: true},
		"poller may not publish decisions":   {role: bus.RolePoller, publish: decision},
		"poller may not read decisions":      {role: bus.RolePoller, sub: p.All(msg.TypeDecision)},
		"decider reads readings":             {role: bus.RoleDecider, sub: p.All(msg.TypeReading), allowed: true},
		"decider publishes decisions":        {role: bus.RoleDecider, publish: decision, allowed: true},
		"decider may not publish readings":   {role: bus.RoleDecider, publish: reading},
		"decider may not publish actions":    {role: bus.RoleDecider, publish: action},
		"actuator reads decisions":           {role: bus.RoleActuator, sub: p.All(msg.TypeDecision), allowed: true},
		"actuator publishes actions":         {role: bus.RoleActuator, publish: action, allowed: true},
		"actuator may not read readings":     {role: bus.RoleActuator, sub: p.Filter(msg.TypeReading, msg.Filter{Namespace: "orders"})},
		"actuator may not publish decisions": {role: bus.RoleActuator, publish: decision},
		"metrics-api reads readings":         {role: bus.RoleMetricsAPI, sub: p.All(msg.TypeReading), allowed: true},
		"metrics-api reads decisions":        {role: bus.RoleMetricsAPI, sub: p.All(msg.TypeDecision), allowed: true},
		"metrics-api publishes nothing":      {role: bus.RoleMetricsAPI, publish: reading},
		"tap reads actions":                  {role: bus.RoleTap, sub: p.All(msg.TypeAction), allowed: true},
		"tap reads everything of one object": {role: bus.RoleTap, sub: p.Filter(msg.TypeReading, msg.Filter{Namespace: "orders", Name: "consumer"}), allowed: true},
		"tap publishes no reading":           {role: bus.RoleTap, publish: reading},
		"tap publishes no decision":          {role: bus.RoleTap, publish: decision},
		"tap publishes no action":            {role: bus.RoleTap, publish: action},
		"tap may not read everything":        {role: bus.RoleTap, sub: ">"},
		"tap may not read another's inbox":   {role: bus.RoleTap, sub: "_INBOX_decider.>"},
		"admin reads everything":             {role: bus.RoleAdmin, sub: ">", allowed: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := b.Connect(t, tc.role)
			ctx := testContext(t)
			var err error
			if tc.publish != nil {
				err = c.Publish(ctx, tc.publish)
			} else {
				_, err = c.Subscribe(ctx, tc.sub, func(*nats.Msg) {})
			}
			switch {
			case tc.allowed && err != nil:
				t.Errorf("got %v, want it allowed", err)
			case !tc.allowed && !errors.Is(err, nats.ErrPermissionViolation):
				t.Errorf("got %v, want an error wrapping nats.ErrPermissionViolation", err)
			}
		})
	}
}

// JetStream calls are requests whose denial the server reports asynchronously: the call
// fails, and the reason arrives on Err.
func TestJetStreamPermissions(t *testing.T) {
	b := bustest.Start(t)
	tests := map[string]struct {
		role    bus.Role
		bucket  string
		write   bool
		allowed bool
	}{
		"poller writes the pollers bucket":      {role: bus.RolePoller, bucket: bus.PollersBucket(""), write: true, allowed: true},
		"decider writes its own bucket":         {role: bus.RoleDecider, bucket: bus.DeciderBucket(""), write: true, allowed: true},
		"decider may not write pollers":         {role: bus.RoleDecider, bucket: bus.PollersBucket(""), write: true},
		"tap reads the readings bucket":         {role: bus.RoleTap, bucket: bus.ReadingsBucket(""), allowed: true},
		"tap may not write the readings bucket": {role: bus.RoleTap, bucket: bus.ReadingsBucket(""), write: true},
		"tap may not read the decider bucket":   {role: bus.RoleTap, bucket: bus.DeciderBucket("")},
		"metrics-api reads the readings bucket": {role: bus.RoleMetricsAPI, bucket: bus.ReadingsBucket(""), allowed: true},
		"actuator may not read the pollers":     {role: bus.RoleActuator, bucket: bus.PollersBucket("")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := b.Connect(t, tc.role)
			ctx := testContext(t)
			err := func() error {
				kv, err := c.JetStream().KeyValue(shortContext(t), tc.bucket)
				if err != nil {
					return err
				}
				if tc.write {
					_, err = kv.Put(shortContext(t), "k", []byte("v"))
					return err
				}
				_, err = kv.ListKeys(shortContext(t))
				return err
			}()
			if tc.allowed {
				if err != nil {
					t.Fatalf("got %v, want it allowed", err)
				}
				return
			}
			if err == nil {
				t.Fatal("call succeeded, want it denied")
			}
			select {
			case async := <-c.Err():
				if !errors.Is(async, nats.ErrPermissionViolation) || !strings.Contains(async.Error(), "$") {
					t.Errorf("Err() delivered %v, want a permission violation for a JetStream subject", async)
				}
			case <-ctx.Done():
				t.Fatalf("call failed with %v but Err() reported nothing", err)
			}
		})
	}
}

// A role may read the audit stream without being able to change it.
func TestAuditStreamIsReadOnlyForTap(t *testing.T) {
	b := bustest.Start(t)
	decider, tap := b.Connect(t, bus.RoleDecider), b.Connect(t, bus.RoleTap)
	ctx := testContext(t)
	if err := decider.Publish(ctx, msgtest.Decision()); err != nil {
		t.Fatal(err)
	}
	s, err := tap.JetStream().Stream(ctx, bus.AuditStream(""))
	if err != nil {
		t.Fatalf("tap stream info: %v", err)
	}
	if n := s.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("audit stream holds %d messages, want 1", n)
	}
	if err := s.Purge(shortContext(t)); err == nil {
		t.Error("tap purged the audit stream")
	}
	if err := tap.JetStream().DeleteStream(shortContext(t), bus.AuditStream("")); err == nil {
		t.Error("tap deleted the audit stream")
	}
}

func shortContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	t.Cleanup(cancel)
	return ctx
}
