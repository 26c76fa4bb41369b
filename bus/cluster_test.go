package bus_test

import (
	"fmt"
	"testing"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg"
)

// Losing the node that leads the audit stream loses no decision: the other two keep a quorum,
// elect a new leader, accept new decisions and replay the old ones.
func TestClusterSurvivesLosingTheStreamLeader(t *testing.T) {
	nodes := bustest.StartCluster(t)
	decider := nodes[0].Connect(t, bus.RoleDecider) // its URL lists every node
	ctx := testContext(t)
	const before, after = 20, 20
	for i := range before {
		if err := decider.Publish(ctx, numberedDecision(i)); err != nil {
			t.Fatal(err)
		}
	}
	stream := bus.AuditStream("")
	var survivor *bustest.Bus
	stopped := false
	for _, n := range nodes {
		if !stopped && n.IsStreamLeader(stream) {
			n.Shutdown()
			stopped = true
			continue
		}
		survivor = n
	}
	if !stopped {
		t.Fatal("no node leads the audit stream")
	}
	for i := before; i < before+after; i++ {
		if err := decider.Publish(ctx, numberedDecision(i)); err != nil {
			t.Fatalf("publish after losing a node: %v", err)
		}
	}
	tap := survivor.Connect(t, bus.RoleTap)
	info, err := tap.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if r := info.CachedInfo().Config.Replicas; r != 3 {
		t.Errorf("audit stream has %d replicas, want 3", r)
	}
	var got []string
	err = tap.ReplayAudit(ctx, bus.Replay{}, func(m bus.AuditMessage) error {
		a, err := msg.DefaultPrefix.Parse(m.Subject)
		got = append(got, a.Name)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != before+after {
		t.Fatalf("replayed %d decisions, want %d", len(got), before+after)
	}
	for i, name := range got {
		if want := fmt.Sprintf("c%d", i); name != want {
			t.Errorf("decision %d is %s, want %s", i, name, want)
		}
	}
}
