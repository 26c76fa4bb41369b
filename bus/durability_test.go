package bus_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// Everything published before a restart is replayed, in order, from the same store.
func TestAuditReplayAfterRestart(t *testing.T) {
	b := bustest.Start(t)
	const n = 100
	var want []string
	func() {
		decider, actuator := b.Connect(t, bus.RoleDecider), b.Connect(t, bus.RoleActuator)
		ctx := testContext(t)
		for i := range n {
			d := numberedDecision(i)
			a := msgtest.Action()
			a.Object, a.Decision, a.To = d.Object, d.DecisionRef(), msg.Count(d.DesiredReplicas)
			for _, m := range []struct {
				c *bus.Conn
				m msg.Message
			}{{decider, d}, {actuator, a}} {
				if err := m.c.Publish(ctx, m.m); err != nil {
					t.Fatal(err)
				}
				want = append(want, string(mustMarshal(t, m.m)))
			}
		}
	}()

	b.Restart(t)

	tap := b.Connect(t, bus.RoleTap)
	var got []string
	err := tap.ReplayAudit(testContext(t), bus.Replay{}, func(m bus.AuditMessage) error {
		got = append(got, string(m.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replayed audit stream (-published +replayed):\n%s", diff)
	}
}

func TestReplaySelects(t *testing.T) {
	t.Run("since and last per subject exclude each other", func(t *testing.T) {
		err := bustest.Start(t).Connect(t, bus.RoleTap).ReplayAudit(testContext(t), bus.Replay{Since: time.Now(), LastPerSubject: true}, nil)
		if err == nil || !strings.Contains(err.Error(), "exclude each other") {
			t.Errorf("error = %v, want since and last per subject refused", err)
		}
	})
	b := bustest.Start(t)
	decider := b.Connect(t, bus.RoleDecider)
	ctx := testContext(t)
	for i := range 3 {
		if err := decider.Publish(ctx, numberedDecision(i)); err != nil {
			t.Fatal(err)
		}
	}
	between := time.Now()
	again := numberedDecision(1)
	again.DesiredReplicas = 9
	for _, d := range []msg.Decision{numberedDecision(3), numberedDecision(4), again} {
		if err := decider.Publish(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	p := msg.DefaultPrefix
	tests := map[string]struct {
		replay bus.Replay
		want   []string
	}{
		"everything":           {replay: bus.Replay{}, want: []string{"c0=0", "c1=1", "c2=2", "c3=3", "c4=4", "c1=9"}},
		"since a time":         {replay: bus.Replay{Since: between}, want: []string{"c3=3", "c4=4", "c1=9"}},
		"one object":           {replay: bus.Replay{Subjects: []string{p.Filter(msg.TypeDecision, msg.Filter{Name: "c1"})}}, want: []string{"c1=1", "c1=9"}},
		"last per object":      {replay: bus.Replay{LastPerSubject: true}, want: []string{"c0=0", "c2=2", "c3=3", "c4=4", "c1=9"}},
		"no action stored yet": {replay: bus.Replay{Subjects: []string{p.All(msg.TypeAction)}}, want: nil},
		"since the future":     {replay: bus.Replay{Since: time.Now().Add(time.Hour)}, want: nil},
	}
	tap := b.Connect(t, bus.RoleTap)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			err := tap.ReplayAudit(testContext(t), tc.replay, func(m bus.AuditMessage) error {
				d, err := msg.DecodeAs[msg.Decision](m.Data)
				got = append(got, fmt.Sprintf("%s=%d", d.Object.Name, d.DesiredReplicas))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replayed objects (-want +got):\n%s", diff)
			}
		})
	}
}

// A restarted service resumes from the last reading of every trigger, not from zero, and a
// deleted trigger stays gone.
func TestReadingsResumeAfterRestart(t *testing.T) {
	b := bustest.Start(t)
	ctx := testContext(t)
	poller := b.Connect(t, bus.RolePoller)
	want := map[string]float64{}
	for obj := range 3 {
		for trig := range 2 {
			for v := range 5 { // only the last value of each trigger must survive
				r := msgtest.Reading()
				r.Object.Name = fmt.Sprintf("obj.%d", obj)
				r.Trigger.Index, r.Value = trig, float64(100*obj+10*trig+v)
				if err := poller.Publish(ctx, r); err != nil {
					t.Fatal(err)
				}
				want[msg.ReadingKey(r.Object, trig)] = r.Value
			}
		}
	}
	gone := msgtest.Object()
	gone.Name = "obj.2"
	if err := poller.DeleteReading(ctx, gone, 1); err != nil {
		t.Fatal(err)
	}
	delete(want, msg.ReadingKey(gone, 1))

	b.Restart(t)

	for _, role := range []bus.Role{bus.RoleDecider, bus.RoleMetricsAPI, bus.RolePoller} {
		t.Run(string(role), func(t *testing.T) {
			readings, err := b.Connect(t, role).LastReadings(testContext(t), msg.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, r := range readings {
				got[msg.ReadingKey(r.Object, r.Trigger.Index)] = r.Value
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("last readings after restart (-want +got):\n%s", diff)
			}
		})
	}
}

// WatchReadings delivers the stored values, says when it has caught up, then follows.
func TestWatchReadingsResumesThenFollows(t *testing.T) {
	b := bustest.Start(t)
	ctx := testContext(t)
	poller := b.Connect(t, bus.RolePoller)
	stored, other, live := msgtest.Reading(), msgtest.Reading(), msgtest.Reading()
	other.Object.Namespace = "billing"
	live.Value = 7
	for _, r := range []msg.Reading{stored, other} {
		if err := poller.Publish(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	updates := make(chan bus.ReadingUpdate)
	decider := b.Connect(t, bus.RoleDecider)
	go func() {
		_ = decider.WatchReadings(ctx, msg.Filter{Namespace: "orders"}, func(u bus.ReadingUpdate) error {
			select {
			case updates <- u:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	// The delete waits until the live value has arrived: the bucket keeps one value per key,
	// so a value replaced before the watcher got it is never delivered (watchers see states,
	// not every write).
	for len(got) < 4 {
		select {
		case u := <-updates:
			got = append(got, describe(u))
			switch {
			case u.CaughtUp:
				if err := poller.Publish(ctx, live); err != nil {
					t.Error(err)
				}
			case !u.Deleted && u.Err == nil && u.Reading.Value == live.Value:
				if err := poller.DeleteReading(ctx, live.Object, 0); err != nil {
					t.Error(err)
				}
			}
		case <-ctx.Done():
			t.Fatalf("got only %q", got)
		}
	}
	want := []string{"orders.so.consumer.0=100", "caught up", "orders.so.consumer.0=7", "orders.so.consumer.0 deleted"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

// A value that is not a reading is named, and the valid ones still come back.
func TestLastReadingsReportsBadValues(t *testing.T) {
	b := bustest.Start(t)
	ctx := testContext(t)
	poller := b.Connect(t, bus.RolePoller)
	if err := poller.Publish(ctx, msgtest.Reading()); err != nil {
		t.Fatal(err)
	}
	if err := poller.PublishData(ctx, "ebb.reading.orders.so.broken.0", []byte(`{"schema":"ebb.dev/reading/v1"}`)); err != nil {
		t.Fatal(err)
	}
	readings, err := b.Connect(t, bus.RoleMetricsAPI).LastReadings(ctx, msg.Filter{})
	if len(readings) != 1 || readings[0].Object.Name != "consumer" {
		t.Errorf("readings = %+v, want the one valid reading", readings)
	}
	if err == nil || !strings.Contains(err.Error(), "reading key orders.so.broken.0") {
		t.Errorf("error = %v, want it to name the bad key", err)
	}
}

func describe(u bus.ReadingUpdate) string {
	switch {
	case u.CaughtUp:
		return "caught up"
	case u.Deleted:
		return u.Key + " deleted"
	case u.Err != nil:
		return u.Key + " " + u.Err.Error()
	}
	return fmt.Sprintf("%s=%g", u.Key, u.Reading.Value)
}

func numberedDecision(i int) msg.Decision {
	d := msgtest.Decision()
	d.Object.Name = fmt.Sprintf("c%d", i)
	d.DesiredReplicas = int32(i)
	return d
}
