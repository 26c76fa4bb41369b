package partition

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
)

const (
	testPartitions = 16
	testTTL        = 500 * time.Millisecond
)

// member is one replica joined for a test, on its own connection.
type member struct {
	set    *Set
	conn   *bus.Conn
	cancel context.CancelFunc
}

func join(t *testing.T, b *bustest.Bus, id string) *member {
	t.Helper()
	conn := b.Connect(t, bus.RoleDecider)
	kv, err := conn.JetStream().KeyValue(t.Context(), bus.DeciderBucket(conn.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Join(ctx, kv, Config{Group: "test", ID: id, Partitions: testPartitions, TTL: testTTL, Log: bustest.Logger(t)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	m := &member{set: s, conn: conn, cancel: cancel}
	t.Cleanup(func() { cancel(); <-s.Done() })
	return m
}

// keys returns one key per partition.
func keys() []string {
	out := make([]string, testPartitions)
	for i, n := 0, 0; n < testPartitions; i++ {
		k := fmt.Sprintf("ns.so.object-%d", i)
		if p := Of(k, testPartitions); out[p] == "" {
			out[p] = k
			n++
		}
	}
	return out
}

// exclusive runs Guard on every partition of every member in a loop and counts the times two
// guarded sections of one partition overlapped, until the test ends.
func exclusive(t *testing.T, members ...*member) *atomic.Int64 {
	t.Helper()
	var violations atomic.Int64
	inside := make([]atomic.Int32, testPartitions)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			for ctx.Err() == nil {
				for p, k := range keys() {
					m.set.Guard(ctx, k, func(context.Context) {
						if inside[p].Add(1) != 1 {
							violations.Add(1)
						}
						time.Sleep(20 * time.Microsecond)
						inside[p].Add(-1)
					})
				}
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &violations
}

// waitSplit waits until the members hold every partition between them, each the ones
// rendezvous hashing gives it among want, and returns how long that took.
func waitSplit(t *testing.T, want []string, members ...*member) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(5 * testTTL)
	var got map[string][]int
	for time.Now().Before(deadline) {
		got = map[string][]int{}
		for _, m := range members {
			got[m.set.cfg.ID] = m.set.Held()
		}
		if cmp.Equal(expected(want), got) {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("partitions held (-want +got):\n%s", cmp.Diff(expected(want), got))
	return 0
}

func expected(members []string) map[string][]int {
	out := map[string][]int{}
	for _, id := range members {
		out[id] = nil
	}
	for p := range testPartitions {
		o := owner(members, p)
		out[o] = append(out[o], p)
	}
	return out
}

func TestSplit(t *testing.T) {
	b := bustest.Start(t)
	a := join(t, b, "a")
	violations := exclusive(t, a)
	waitSplit(t, []string{"a"}, a)

	c := join(t, b, "c")
	d := join(t, b, "d")
	violations = addTo(t, violations, c, d)
	waitSplit(t, []string{"a", "c", "d"}, a, c, d)
	if got := a.set.Members(); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("members seen by a = %v, want [a c d]", got)
	}

	c.cancel()
	<-c.set.Done()
	if took := waitSplit(t, []string{"a", "d"}, a, d); took > testTTL {
		t.Errorf("a member that left was replaced after %s, want less than the TTL %s", took, testTTL)
	}
	if n := violations.Load(); n != 0 {
		t.Errorf("%d times two members ran guarded code of one partition at once", n)
	}
}

func TestDeadMemberReplaced(t *testing.T) {
	b := bustest.Start(t)
	a := join(t, b, "a")
	d := join(t, b, "d")
	violations := exclusive(t, a, d)
	waitSplit(t, []string{"a", "d"}, a, d)

	// Cut off from the bus, the member can neither renew nor leave, yet keeps running its
	// guarded code until its own trust in its leases runs out: the worst case for overlap.
	d.conn.Close()
	took := waitSplit(t, []string{"a"}, a)
	if took > 2*testTTL {
		t.Errorf("a dead member's partitions moved after %s, want within 2×TTL (%s)", took, 2*testTTL)
	}
	if took < testTTL/2 {
		t.Errorf("a dead member's partitions moved after %s: before its leases could have lapsed", took)
	}
	deadline := time.Now().Add(2 * testTTL)
	for len(d.set.Held()) > 0 { // keep checking until the cut-off member stops trusting its leases
		if time.Now().After(deadline) {
			t.Fatalf("a member cut off from the bus still trusts partitions %v after 2×TTL", d.set.Held())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := violations.Load(); n != 0 {
		t.Errorf("%d times two members ran guarded code of one partition at once", n)
	}
	// The dead member's key is deleted by the survivor, so it is not waited for again.
	kv, err := a.conn.JetStream().KeyValue(t.Context(), bus.DeciderBucket(a.conn.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(3 * testTTL)
	for {
		_, err := kv.Get(t.Context(), "test.member.d")
		if err == jetstream.ErrKeyNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead member key still there: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addTo starts the exclusivity check over members too, sharing one count of violations.
func addTo(t *testing.T, v *atomic.Int64, members ...*member) *atomic.Int64 {
	t.Helper()
	w := exclusive(t, members...)
	t.Cleanup(func() { v.Add(w.Load()) })
	return v
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"defaults are valid":       {cfg: Config{Group: "g", ID: "decider-0"}},
		"dots in the id":           {cfg: Config{Group: "g", ID: "a.b"}, want: `id "a.b": want letters, digits, '-' or '_'`},
		"no group":                 {cfg: Config{ID: "x"}, want: `group "": want letters, digits, '-' or '_'`},
		"too many partitions":      {cfg: Config{Group: "g", ID: "x", Partitions: 5000}, want: "partitions 5000: want 1 to 4096"},
		"a TTL too short to renew": {cfg: Config{Group: "g", ID: "x", TTL: time.Millisecond}, want: "ttl 1ms: want at least 100ms"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ""
			if err := tc.cfg.Validate(); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOwnerMovesOnlyTheLeaversPartitions(t *testing.T) {
	three := []string{"a", "b", "c"}
	two := []string{"a", "c"}
	moved := 0
	for p := range 4096 {
		before, after := owner(three, p), owner(two, p)
		if before != "b" && before != after {
			t.Fatalf("partition %d moved from %s to %s though %s stayed", p, before, after, before)
		}
		if before == "b" {
			moved++
		}
	}
	if moved < 4096/3-200 || moved > 4096/3+200 {
		t.Errorf("b owned %d of 4096 partitions, want about a third", moved)
	}
}
