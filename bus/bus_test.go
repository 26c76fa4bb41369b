package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/jsonschema"
	"ebb.dev/schemas/msg/msgtest"
)

// Who publishes and who reads each message type, as deployed.
var publisherOf = map[msg.Type]bus.Role{msg.TypeReading: bus.RolePoller, msg.TypeDecision: bus.RoleDecider, msg.TypeAction: bus.RoleActuator}
var readerOf = map[msg.Type]bus.Role{msg.TypeReading: bus.RoleDecider, msg.TypeDecision: bus.RoleActuator, msg.TypeAction: bus.RoleTap}

func TestEveryMessageRoundTrips(t *testing.T) {
	b := bustest.Start(t)
	v, err := jsonschema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	connect := map[string]func(testing.TB, bus.Role) *bus.Conn{"tcp": b.Connect, "in-process": b.ConnectInProcess}
	for via, dial := range connect {
		for name, m := range msgtest.All() {
			t.Run(via+"/"+name, func(t *testing.T) {
				typ := typeOf(t, b, m)
				pub, sub := dial(t, publisherOf[typ]), dial(t, readerOf[typ])
				got := make(chan *nats.Msg, 1)
				ctx := testContext(t)
				if _, err := sub.Subscribe(ctx, msg.DefaultPrefix.Subject(m), func(m *nats.Msg) { got <- m }); err != nil {
					t.Fatal(err)
				}
				if err := pub.Publish(ctx, m); err != nil {
					t.Fatal(err)
				}
				select {
				case nm := <-got:
					if err := v.Validate(nm.Data); err != nil {
						t.Errorf("message off the bus fails its JSON Schema: %v", err)
					}
					decoded, err := msg.Decode(nm.Data)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := msg.Decode(mustMarshal(t, m))
					if diff := cmp.Diff(want, decoded); diff != "" {
						t.Errorf("received message (-want +got):\n%s", diff)
					}
				case <-ctx.Done():
					t.Fatal("message never arrived")
				}
			})
		}
	}
}

func typeOf(t *testing.T, b *bustest.Bus, m msg.Message) msg.Type {
	t.Helper()
	a, err := msg.DefaultPrefix.Parse(msg.DefaultPrefix.Subject(m))
	if err != nil {
		t.Fatal(err)
	}
	return a.Type
}

func mustMarshal(t testing.TB, m msg.Message) []byte {
	t.Helper()
	data, err := msg.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var _ = errors.Is
