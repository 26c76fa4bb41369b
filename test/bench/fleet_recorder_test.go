package bench

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"ebb.dev/schemas/msg"
)

// start is when the recorder tests' bus traffic begins.
var start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func fleetReading(i int, poller string, observed time.Time) msg.Reading {
	return msg.Reading{
		Schema:  msg.ReadingSchema,
		Object:  msg.ObjectRef{Namespace: fleetNamespace, Kind: msg.ScaledObject, Name: fleetName(i), UID: "u", Generation: 1},
		Trigger: msg.TriggerRef{Type: "metrics-api", MetricName: "s0-metric-api-value"},
		Target:  msg.Target{Type: msg.AverageValue, Value: fleetTarget}, ObservedAt: observed, Poller: poller,
	}
}

func fleetDecision(in msg.Reading, decided time.Time) msg.Decision {
	return msg.Decision{Schema: msg.DecisionSchema, Object: in.Object, Reason: msg.ReasonCooldown, Inputs: []msg.Reading{in}, DecidedAt: decided, Decider: "d"}
}

// feed hands m to the recorder as if the bus delivered it at at.
func feed(t *testing.T, r *recorder, at time.Time, m msg.Message) {
	t.Helper()
	data, err := msg.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r.receive(at, &nats.Msg{Data: data})
}

func TestRecorderWindow(t *testing.T) {
	r := newRecorder()
	r.open()
	first := fleetReading(1, "poller-1", start)
	feed(t, r, start.Add(time.Millisecond), first)
	feed(t, r, start.Add(3*time.Millisecond), fleetDecision(first, start.Add(2*time.Millisecond)))
	// The decider's publish once per interval, before the next reading: nothing new to time.
	feed(t, r, start.Add(30*time.Second), fleetDecision(first, start.Add(30*time.Second)))
	second := fleetReading(1, "poller-1", start.Add(30*time.Second+time.Millisecond))
	feed(t, r, start.Add(30*time.Second+2*time.Millisecond), second)
	feed(t, r, start.Add(30*time.Second+7*time.Millisecond), fleetDecision(second, start.Add(30*time.Second+4*time.Millisecond)))
	w := r.close()

	got := struct {
		Readings, Decisions, Unprompted, Triggers int
		Latencies, ToDecide, ToArrive             []time.Duration
	}{w.readings, w.decisions, w.unprompted, len(w.pollers["poller-1"].triggers), w.latencies, w.toDecide, w.toArrive}
	want := struct {
		Readings, Decisions, Unprompted, Triggers int
		Latencies, ToDecide, ToArrive             []time.Duration
	}{2, 3, 1, 1,
		[]time.Duration{2 * time.Millisecond, 5 * time.Millisecond},
		[]time.Duration{time.Millisecond, 2 * time.Millisecond},
		[]time.Duration{time.Millisecond, 3 * time.Millisecond}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("window (-want +got):\n%s", diff)
	}
	if read, decided := r.seen(); read != 1 || decided != 1 {
		t.Errorf("seen %d read, %d decided; want 1 and 1", read, decided)
	}
}

func TestRecorderTakeover(t *testing.T) {
	r := newRecorder()
	feed(t, r, start, fleetReading(1, "poller-2", start))
	feed(t, r, start, fleetReading(2, "poller-1", start))
	kill := start.Add(29 * time.Second)
	tk, orphans := r.watchTakeover("poller-2", kill)
	if orphans != 1 {
		t.Fatalf("%d orphans, want 1 (only fleet-1 was poller-2's)", orphans)
	}
	// Published by poller-2 just before its kill, delivered just after: its last reading.
	last := fleetReading(1, "poller-2", start.Add(30*time.Second))
	feed(t, r, kill.Add(time.Millisecond), last)
	feed(t, r, start.Add(31*time.Second), fleetReading(2, "poller-1", start.Add(30*time.Second)))
	select {
	case <-tk.done:
		t.Fatal("takeover done before another poller read fleet-1")
	default:
	}
	after := fleetReading(1, "poller-1", start.Add(60*time.Second))
	feed(t, r, start.Add(60*time.Second+time.Millisecond), after)
	select {
	case <-tk.done:
	default:
		t.Fatal("takeover not done once poller-1 read fleet-1")
	}
	reads, unread := r.endTakeover()
	if unread != 0 || len(reads) != 1 {
		t.Fatalf("%d reads, %d unread; want 1 and 0", len(reads), unread)
	}
	k := shardKill{at: kill, orphans: 1, reads: reads}
	since, late := k.delays()
	if want := []time.Duration{31*time.Second + time.Millisecond}; !cmp.Equal(since, want) {
		t.Errorf("kill → read again %v, want %v", since, want)
	}
	if want := []time.Duration{0}; !cmp.Equal(late, want) {
		t.Errorf("late %v, want %v: the new owner kept the slot after the killed poller's last reading", late, want)
	}
}
