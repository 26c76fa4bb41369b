package explain_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/bus/explain"
	"ebb.dev/bus/tap"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// publish sends each message as the service that owns its type would.
func publish(t *testing.T, b *bustest.Bus, ms ...msg.Message) {
	t.Helper()
	conns := map[msg.Type]*bus.Conn{}
	for _, m := range ms {
		a, err := msg.DefaultPrefix.Parse(msg.DefaultPrefix.Subject(m))
		if err != nil {
			t.Fatal(err)
		}
		c, ok := conns[a.Type]
		if !ok {
			role := map[msg.Type]bus.Role{msg.TypeReading: bus.RolePoller, msg.TypeDecision: bus.RoleDecider, msg.TypeAction: bus.RoleActuator}[a.Type]
			c = b.Connect(t, role)
			conns[a.Type] = c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = c.Publish(ctx, m)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The bus holds two triggers' readings, a run of decisions and seven actions for
// orders/consumer, and messages about other objects that must not show.
func TestGatherOverTheBus(t *testing.T) {
	b := bustest.Start(t)

	second := msgtest.FailedReading()
	second.Trigger = msg.TriggerRef{Index: 1, Type: "kafka", MetricName: "s1-kafka-payments"}
	empty := msgtest.Reading()
	empty.Value, empty.Active, empty.ObservedAt = 0, false, msgtest.T0.Add(30*time.Second)
	billing := msgtest.Reading()
	billing.Object.Namespace = "billing"
	job := msgtest.JobDecision()
	otherDecision := msgtest.Decision()
	otherDecision.Object.Name = "consumer-2"

	activate := msgtest.Decision()
	activate.Reason, activate.CurrentReplicas, activate.DesiredReplicas = msg.ReasonActivate, 0, 1
	cooldown := msgtest.CooldownDecision()
	cooldown.Inputs = []msg.Reading{empty, second}
	cooldown.Metrics = []msg.MetricValue{{Name: "s0-rabbitmq-orders"}, {Name: "s1-kafka-payments", Error: second.Error, Failures: 2}}
	cooldown.DecidedAt = msgtest.T0.Add(31 * time.Second)

	var actions []msg.Message
	for i := range int32(7) {
		a := msgtest.Action()
		a.From, a.To, a.At = msg.Count(i), msg.Count(i+1), msgtest.T0.Add(time.Duration(i)*time.Second)
		actions = append(actions, a)
	}
	otherAction := msgtest.FailedAction()
	otherAction.Object.Name = "consumer-2"

	publish(t, b, msgtest.Reading(), second, billing, empty)
	publish(t, b, activate, msgtest.Decision(), job, otherDecision, cooldown)
	publish(t, b, actions...)
	publish(t, b, otherAction)

	conn := b.Connect(t, bus.RoleTap) // read-only, as ebb explain connects
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := msgtest.T0.Add(time.Minute)

	t.Run("the last of everything, five actions", func(t *testing.T) {
		e, err := explain.Gather(ctx, conn, explain.Config{Object: msgtest.Object()}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Problems) > 0 {
			t.Errorf("problems: %q", e.Problems)
		}
		var got strings.Builder
		if err := explain.Write(&got, explain.Explain(e, now), tap.Printer{}); err != nil {
			t.Fatal(err)
		}
		want := `orders/consumer (ScaledObject, generation 2) at 14:03:07
state     inactive, 1 replica (cooldown)
triggers
  0 rabbitmq s0-rabbitmq-orders=0/5 inactive, read 14:02:37 (30s ago) by poller-0
  1 kafka s1-kafka-payments error: dial tcp 127.0.0.1:5672: connect: connection refused, 2 failed polls in a row, read 14:02:07 (1m0s ago) by poller-0
decision  1→1 cooldown (s0-rabbitmq-orders=0/5, s1-kafka-payments failing), decided 14:02:38 (29s ago) by decider-0
          serves the HPA s0-rabbitmq-orders=0, s1-kafka-payments error: dial tcp 127.0.0.1:5672: connect: connection refused
actions
  14:02:09 scale 2→3 ok (decision hpa of 14:02:08)
  14:02:10 scale 3→4 ok (decision hpa of 14:02:08)
  14:02:11 scale 4→5 ok (decision hpa of 14:02:08)
  14:02:12 scale 5→6 ok (decision hpa of 14:02:08)
  14:02:13 scale 6→7 ok (decision hpa of 14:02:08)
next      scales to 0 (or idleReplicaCount) at 14:07:07 unless a reading exceeds its activation threshold
          s1-kafka-payments has failed 2 polls in a row; whether and when fallback engages is not known without -kubeconfig
unknown   spec and status: the cluster was not read (give -kubeconfig): min and max replicas, cooldown, idle replicas, fallback, pause annotations and activation thresholds are not known
`
		if diff := cmp.Diff(want, got.String()); diff != "" {
			t.Errorf("explain (-want +got):\n%s", diff)
		}
	})

	t.Run("no recent action: the last one however old", func(t *testing.T) {
		e, err := explain.Gather(ctx, conn, explain.Config{Object: msgtest.Object(), Actions: 3, ActionsSince: time.Minute}, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Actions) != 1 || *e.Actions[0].To != 7 {
			t.Errorf("actions = %+v, want the last one alone (to 7)", e.Actions)
		}
	})

	t.Run("a ScaledJob of the same name", func(t *testing.T) {
		ref := msgtest.Object()
		ref.Kind = msg.ScaledJob
		e, err := explain.Gather(ctx, conn, explain.Config{Object: ref}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if e.Decision == nil || e.Decision.Jobs == nil || len(e.Readings) != 0 || len(e.Actions) != 0 {
			t.Errorf("ScaledJob evidence: decision %+v, %d readings, %d actions; want the job decision alone", e.Decision, len(e.Readings), len(e.Actions))
		}
	})

	t.Run("an object the bus knows nothing of", func(t *testing.T) {
		ref := msgtest.Object()
		ref.Name = "nobody"
		e, err := explain.Gather(ctx, conn, explain.Config{Object: ref}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if e.Decision != nil || len(e.Readings) != 0 || len(e.Actions) != 0 {
			t.Errorf("evidence for an unknown object: %+v", e)
		}
	})

	t.Run("a stored reading that does not decode is named, the others kept", func(t *testing.T) {
		admin := b.Connect(t, bus.RoleAdmin)
		ref := msgtest.Object()
		ref.Name = "broken"
		r := msgtest.Reading()
		r.Object = ref
		publish(t, b, r)
		if err := admin.PublishData(ctx, msg.DefaultPrefix.Reading(ref, 1), []byte(`{"schema":"ebb.dev/reading/v1"}`)); err != nil {
			t.Fatal(err)
		}
		e, err := explain.Gather(ctx, conn, explain.Config{Object: ref}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Readings) != 1 || len(e.Problems) != 1 || !strings.Contains(e.Problems[0], "reading key orders.so.broken.1") {
			t.Errorf("readings %d, problems %q; want one of each, the problem naming the key", len(e.Readings), e.Problems)
		}
	})
}
