package bus_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg/msgtest"
)

func TestConnectRejectsBadCredentials(t *testing.T) {
	b := bustest.Start(t)
	tests := map[string]func(*bus.ClientConfig){
		"wrong password": func(c *bus.ClientConfig) { c.Password = "not-the-password" },
		"unknown user":   func(c *bus.ClientConfig) { c.User = "intruder" },
		"no password":    func(c *bus.ClientConfig) { c.Password = "" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			cc := b.ClientConfig(bus.RoleTap)
			edit(&cc)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			c, err := bus.Connect(ctx, cc)
			if err == nil {
				c.Close()
				t.Fatal("connected, want an authorization error")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("error = %v, want nats.ErrAuthorization", err)
			}
			if ctx.Err() != nil {
				t.Error("Connect retried a refused login until its context ended")
			}
		})
	}
}

func TestPasswordFromFile(t *testing.T) {
	b := bustest.Start(t)
	cc := b.ClientConfig(bus.RoleTap)
	cc.PasswordFile = filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(cc.PasswordFile, []byte(cc.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cc.Password = ""
	c, err := bus.Connect(testContext(t), cc)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// An NKey user proves itself with a seed the server never sees, and gets its role's rights.
func TestNKeyUser(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "tap-ops.seed")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	b := bustest.Start(t, func(c *bus.Config) {
		c.Users = append(c.Users, bus.User{Name: "tap-ops", Role: bus.RoleTap, NKey: pub})
	})
	cc := b.ClientConfig(bus.RoleTap)
	cc.User, cc.Password, cc.NKeySeedFile = "tap-ops", "", seedFile
	ctx := testContext(t)
	c, err := bus.Connect(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, "ebb.action.>", func(*nats.Msg) {}); err != nil {
		t.Errorf("nkey tap user may not read actions: %v", err)
	}
	if err := c.Publish(ctx, msgtest.Action()); !errors.Is(err, nats.ErrPermissionViolation) {
		t.Errorf("nkey tap user publish: got %v, want a permission violation", err)
	}
}

func TestTLS(t *testing.T) {
	b := bustest.Start(t, bustest.TLS(t))
	if !strings.HasPrefix(b.ClientURL(), "tls://") {
		t.Errorf("client URL %q does not require TLS", b.ClientURL())
	}
	poller := b.Connect(t, bus.RolePoller)
	if !poller.NATS().TLSRequired() {
		t.Error("connection is not using TLS")
	}
	if err := poller.Publish(testContext(t), msgtest.Reading()); err != nil {
		t.Fatal(err)
	}
	untrusting := b.ClientConfig(bus.RolePoller)
	untrusting.CAFile = ""
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if c, err := bus.Connect(ctx, untrusting); err == nil {
		c.Close()
		t.Error("connected without trusting the bus's CA")
	}
	b.ConnectInProcess(t, bus.RoleTap) // in-process connections skip TLS
}
