package tap_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/bus/tap"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/jsonschema"
	"ebb.dev/schemas/msg/msgtest"
)

// services publishes as each service would: readings as the poller, decisions as the
// decider, actions as the actuator.
type services struct {
	t     *testing.T
	conns map[msg.Type]*bus.Conn
}

func newServices(t *testing.T, b *bustest.Bus) services {
	return services{t: t, conns: map[msg.Type]*bus.Conn{
		msg.TypeReading: b.Connect(t, bus.RolePoller), msg.TypeDecision: b.Connect(t, bus.RoleDecider), msg.TypeAction: b.Connect(t, bus.RoleActuator),
	}}
}

func (s services) publish(ms ...msg.Message) {
	s.t.Helper()
	for _, m := range ms {
		a, err := msg.DefaultPrefix.Parse(msg.DefaultPrefix.Subject(m))
		if err != nil {
			s.t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.conns[a.Type].Publish(ctx, m)
		cancel()
		if err != nil {
			s.t.Fatal(err)
		}
	}
}

// lines collects what a tap writes, line by line.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSuffix(p, []byte("\n")), []byte("\n")) {
		l <- string(line)
	}
	return len(p), nil
}

func (l lines) next(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case line := <-l:
			got = append(got, line)
		case <-timeout:
			t.Fatalf("got %d lines %q, want %d", len(got), got, n)
		}
	}
	return got
}

// start runs a tap as the tap user until the test ends; it must then stop without error.
func start(t *testing.T, b *bustest.Bus, cfg tap.Config) lines {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lines, 100)
	s, err := tap.Start(ctx, b.Connect(t, bus.RoleTap), cfg, out)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tap: %v", err)
		}
	})
	return out
}

// Filtered-out messages are published first on the same subscription as the wanted ones, so
// a filter that let them through would print them before the wanted lines.
func TestLiveWithFilters(t *testing.T) {
	b := bustest.Start(t)
	svc := newServices(t, b)
	billing := msgtest.Reading()
	billing.Object.Namespace = "billing"
	tests := map[string]struct {
		cfg       tap.Config
		published []msg.Message
		want      []string // in any order: each type has its own subscription
	}{
		"everything": {
			cfg:       tap.Config{},
			published: []msg.Message{msgtest.Reading(), msgtest.Decision(), msgtest.Action()},
			want: []string{
				"14:02:07 orders/consumer reading s0-rabbitmq-orders=100/5 active (poller-0)",
				"14:02:08 orders/consumer decision 1→20 hpa (s0-rabbitmq-orders=100/5)",
				"14:02:09 orders/consumer action scale 1→20 ok",
			},
		},
		"one namespace": {
			cfg:       tap.Config{Filter: msg.Filter{Namespace: "billing"}},
			published: []msg.Message{msgtest.Reading(), billing},
			want:      []string{"14:02:07 billing/consumer reading s0-rabbitmq-orders=100/5 active (poller-0)"},
		},
		"scaledjobs only": {
			cfg:       tap.Config{Filter: msg.Filter{Kind: msg.ScaledJob}},
			published: []msg.Message{msgtest.Decision(), msgtest.JobDecision()},
			want:      []string{"14:02:08 orders/scaledjob/consumer decision create 3 jobs, 2 running, 1 pending jobs (s0-rabbitmq-orders=100/5)"},
		},
		"actions of one name": {
			cfg:       tap.Config{Filter: msg.Filter{Name: "consumer"}, Types: []msg.Type{msg.TypeAction}},
			published: []msg.Message{msgtest.Reading(), msgtest.Decision(), msgtest.FailedAction()},
			want:      []string{`14:02:09 orders/consumer action scale 1→20 failed: deployments.apps "consumer" not found`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := start(t, b, tc.cfg)
			svc.publish(tc.published...)
			got := out.next(t, len(tc.want))
			slices.Sort(got)
			if diff := cmp.Diff(slices.Sorted(slices.Values(tc.want)), got); diff != "" {
				t.Errorf("tap lines (-want +got):\n%s", diff)
			}
		})
	}
}

// "Why did orders/consumer scale to 20 at 14:02?": replay the audit stream from a time.
func TestReplaySince(t *testing.T) {
	b := bustest.Start(t)
	svc := newServices(t, b)
	old := msgtest.Decision()
	old.DesiredReplicas, old.Reason = 1, msg.ReasonActivate
	svc.publish(old)
	since := time.Now()
	svc.publish(msgtest.Reading(), msgtest.Decision(), msgtest.Action())
	var buf bytes.Buffer
	err := tap.Run(t.Context(), b.Connect(t, bus.RoleTap), tap.Config{Since: since}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	want := "14:02:08 orders/consumer decision 1→20 hpa (s0-rabbitmq-orders=100/5)\n" +
		"14:02:09 orders/consumer action scale 1→20 ok\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("replayed lines (-want +got):\n%s", diff)
	}
}

// With Follow the replay goes on live: stored decisions first, then new readings, decisions
// and actions as they come.
func TestReplayThenFollow(t *testing.T) {
	b := bustest.Start(t)
	svc := newServices(t, b)
	svc.publish(msgtest.Decision())
	out := start(t, b, tap.Config{Since: time.Now().Add(-time.Hour), Follow: true})
	if diff := cmp.Diff([]string{"14:02:08 orders/consumer decision 1→20 hpa (s0-rabbitmq-orders=100/5)"}, out.next(t, 1)); diff != "" {
		t.Errorf("stored lines (-want +got):\n%s", diff)
	}
	svc.publish(msgtest.Reading(), msgtest.Action())
	got := out.next(t, 2)
	slices.Sort(got)
	want := []string{
		"14:02:07 orders/consumer reading s0-rabbitmq-orders=100/5 active (poller-0)",
		"14:02:09 orders/consumer action scale 1→20 ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("live lines (-want +got):\n%s", diff)
	}
}

// -o json prints each message as its schema describes it, one per line.
func TestJSONOutput(t *testing.T) {
	b := bustest.Start(t)
	v, err := jsonschema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	out := start(t, b, tap.Config{Printer: tap.Printer{Output: tap.JSON}})
	sent := []msg.Message{msgtest.Reading(), msgtest.Decision(), msgtest.Action()}
	newServices(t, b).publish(sent...)
	var got []msg.Message
	for _, line := range out.next(t, 3) {
		if err := v.Validate([]byte(line)); err != nil {
			t.Errorf("line %s: %v", line, err)
		}
		m, err := msg.Decode([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	for _, m := range sent {
		want, _ := msg.Decode(mustMarshal(t, m))
		if !slices.ContainsFunc(got, func(g msg.Message) bool { return cmp.Equal(want, g) }) {
			t.Errorf("no JSON line for %s", msg.DefaultPrefix.Subject(m))
		}
	}
}

func mustMarshal(t *testing.T, m msg.Message) []byte {
	t.Helper()
	data, err := msg.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
