package bustest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// The capture must find a secret wherever it went, or a test that uses it proves nothing.
func TestCaptureFindsSecrets(t *testing.T) {
	const secret = "pa55-w0rd-Z9"
	tests := map[string]struct {
		before func(t *testing.T, b *bustest.Bus) // runs before the capture starts
		during func(t *testing.T, b *bustest.Bus)
		want   []string // substrings of the leaks, in order; nil means none
	}{
		"nothing secret crosses the bus": {
			during: func(t *testing.T, b *bustest.Bus) { publish(t, b, bus.RolePoller, msgtest.Reading()) },
		},
		"in a live message's data, and in the stream that kept it": {
			during: func(t *testing.T, b *bustest.Bus) {
				r := msgtest.FailedReading()
				r.Error = "login as guest:" + secret + " refused"
				publish(t, b, bus.RolePoller, r)
			},
			want: []string{"message on ebb.reading.orders.so.consumer.0: data", "stream KV_ebb_readings message 1 on $KV.ebb_readings.orders.so.consumer.0: data"},
		},
		"in a message stored before the capture started": {
			before: func(t *testing.T, b *bustest.Bus) {
				a := msgtest.FailedAction()
				a.Error = secret
				publish(t, b, bus.RoleActuator, a)
			},
			want: []string{"stream ebb_audit message 1 on ebb.action.orders.so.consumer: data"},
		},
		"in a core message no stream keeps": {
			during: func(t *testing.T, b *bustest.Bus) {
				core(t, b, &nats.Msg{Subject: "anything.at.all", Data: []byte("x" + secret + "x")})
			},
			want: []string{"message on anything.at.all: data"},
		},
		"in a header": {
			during: func(t *testing.T, b *bustest.Bus) {
				core(t, b, &nats.Msg{Subject: "h", Header: nats.Header{"Authorization": {"Basic " + secret}}})
			},
			want: []string{"message on h: header Authorization"},
		},
		"in a subject": {
			during: func(t *testing.T, b *bustest.Bus) { core(t, b, &nats.Msg{Subject: "ebb.x." + secret}) },
			want:   []string{"message on ebb.x." + secret + ": subject"},
		},
		"JSON-escaped": {
			during: func(t *testing.T, b *bustest.Bus) {
				core(t, b, &nats.Msg{Subject: "j", Data: []byte(`{"p":"pa55-w0rd-Z9\u003c"}`)})
			},
			want: []string{"message on j: data"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := bustest.Start(t)
			if tc.before != nil {
				tc.before(t, b)
			}
			c := b.Capture(t)
			if tc.during != nil {
				tc.during(t, b)
			}
			leaks, err := c.Leaks(context.Background(), []byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			if len(leaks) != len(tc.want) {
				t.Fatalf("leaks = %q, want %d matching %q", leaks, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(leaks[i], w) {
					t.Errorf("leak %d = %q, want it to contain %q", i, leaks[i], w)
				}
			}
		})
	}
}

func TestCaptureSeesEverySubject(t *testing.T) {
	b := bustest.Start(t)
	c := b.Capture(t)
	publish(t, b, bus.RoleDecider, msgtest.Decision())
	// The decision itself and the publish's ack to the decider's inbox crossed the bus.
	n, err := c.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("captured %d messages, want the decision and its ack at least", n)
	}
}

func TestCaptureRefusesAnEmptySecret(t *testing.T) {
	c := bustest.Start(t).Capture(t)
	if _, err := c.Leaks(context.Background(), nil); err == nil {
		t.Error("Leaks(nil) succeeded, want an error: an empty secret matches everything")
	}
}

func publish(t *testing.T, b *bustest.Bus, role bus.Role, m msg.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := b.Connect(t, role).Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
}

func core(t *testing.T, b *bustest.Bus, m *nats.Msg) {
	t.Helper()
	nc := b.ConnectInProcess(t, bus.RoleAdmin).NATS()
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}
