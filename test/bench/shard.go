package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller/shard"
)

// Sharding runs the scale scenario's fleet with 1, 2 and 4 poller processes: the load each
// poller carries, and how long the triggers of a killed poller go unread.
func Sharding() Scenario {
	return Scenario{Name: "sharding", Run: runSharding}
}

// shardConfigs are the numbers of pollers measured, in order; after each of more than one,
// the last poller is killed.
var shardConfigs = []int{1, 2, 4}

// pollerProcesses name the poller processes: the stack's own first, then the extra ones.
var pollerProcesses = []string{"poller", "poller-2", "poller-3", "poller-4"}

// pollerID is the shard ID of poller process i (0-based): poller-<i+1>.
func pollerID(i int) string { return "poller-" + strconv.Itoa(i+1) }

type shardPlan struct {
	size           int
	window, sample time.Duration
	// takeover bounds waiting for a killed poller's triggers to be read again: the key's TTL,
	// one polling interval, and slack.
	takeover time.Duration
}

func planSharding(env Env) shardPlan {
	p := shardPlan{size: 10000, window: 90 * time.Second, sample: 10 * time.Second}
	if env.Quick {
		p = shardPlan{size: 1000, window: 40 * time.Second, sample: 5 * time.Second}
	}
	p.takeover = bus.DefaultPollerTTL + fleetInterval + 30*time.Second
	return p
}

// shardConfig is one number of pollers' measurements.
type shardConfig struct {
	pollers int
	usage   map[string]usage // by process name
	win     window
	owned   map[string]int // triggers each poller ID owns by rendezvous hashing
	kill    *shardKill     // nil for one poller
}

// shardKill is what followed killing one poller.
type shardKill struct {
	killed   string // its shard ID
	orphans  int
	detected time.Duration // kill → its key gone from the pollers bucket
	reads    []takeoverRead
	at       time.Time
	unread   int
}

func runSharding(ctx context.Context, env Env) (Section, error) {
	plan := planSharding(env)
	flags := map[string][]string{}
	for i, name := range pollerProcesses {
		flags[name] = []string{"-id", pollerID(i)}
	}
	f, err := startFleet(ctx, env, fleetOptions{Flags: flags})
	if err != nil {
		return shardSection(env, plan, nil), err
	}
	defer func() {
		if err := f.stop(); err != nil {
			env.Log.Warn("stop fleet", "error", err)
		}
	}()
	admin, err := f.ebb.Connect(ctx, bus.RoleAdmin)
	if err != nil {
		return shardSection(env, plan, nil), err
	}
	defer admin.Close()
	m, err := watchMembers(ctx, admin)
	if err != nil {
		return shardSection(env, plan, nil), err
	}
	defer m.stop()
	env.Log.Info("creating objects", "objects", plan.size)
	if _, _, err := f.grow(ctx, plan.size); err != nil {
		return shardSection(env, plan, nil), err
	}
	if _, err := f.settle(ctx, 3*time.Minute+time.Duration(plan.size)*60*time.Millisecond); err != nil {
		return shardSection(env, plan, nil), err
	}
	running := 1 // the stack started "poller"
	var configs []shardConfig
	for _, k := range shardConfigs {
		c, err := measureShards(ctx, env, f, m, plan, &running, k)
		configs = append(configs, c)
		if err != nil {
			return shardSection(env, plan, configs), fmt.Errorf("%d pollers: %w", k, err)
		}
	}
	return shardSection(env, plan, configs), nil
}

// measureShards runs k pollers, measures them, and with more than one kills the last.
func measureShards(ctx context.Context, env Env, f *fleet, m *members, plan shardPlan, running *int, k int) (c shardConfig, err error) {
	c.pollers = k
	for ; *running < k; *running++ {
		if err := f.ebb.StartService(ctx, pollerProcesses[*running], "poller"); err != nil {
			return c, err
		}
	}
	ids := make([]string, k)
	for i := range ids {
		ids[i] = pollerID(i)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = m.waitFor(waitCtx, ids)
	cancel()
	if err != nil {
		return c, fmt.Errorf("pollers bucket never held exactly %v: %w", ids, err)
	}
	// Moved triggers are read by their new owner at their next slot: one interval later,
	// every trigger has been read where it now belongs.
	env.Log.Info("pollers joined; waiting one polling interval", "pollers", k)
	if err := sleep(ctx, fleetInterval+5*time.Second); err != nil {
		return c, err
	}
	pids, err := f.pids(pollerProcesses[:k]...)
	if err != nil {
		return c, err
	}
	c.owned = ownedByHash(ids, f.size)
	f.rec.open()
	c.usage, err = meter(ctx, pids, plan.window, plan.sample)
	c.win = f.rec.close()
	if err != nil || k == 1 {
		return c, err
	}
	c.kill, err = killPoller(ctx, env, f, m, plan, k)
	*running = k - 1
	return c, err
}

// ownedByHash counts the fleet's triggers each member owns by the pollers' own hashing.
func ownedByHash(ids []string, size int) map[string]int {
	out := map[string]int{}
	for i := range size {
		ref := msg.ObjectRef{Namespace: fleetNamespace, Kind: msg.ScaledObject, Name: fleetName(i)}
		out[shard.Owner(ids, msg.ReadingKey(ref, 0))]++
	}
	return out
}

// killPoller kills the k-th poller at once and follows its triggers until the others read
// each again.
func killPoller(ctx context.Context, env Env, f *fleet, m *members, plan shardPlan, k int) (*shardKill, error) {
	name, id := pollerProcesses[k-1], pollerID(k-1)
	at := time.Now()
	t, orphans := f.rec.watchTakeover(id, at)
	f.ebb.KillService(name)
	env.Log.Info("poller killed; waiting for its triggers to be read by the others", "poller", id, "orphans", orphans)
	sk := &shardKill{killed: id, at: at, orphans: orphans}
	select {
	case <-ctx.Done():
		return sk, ctx.Err()
	case <-t.done:
	case <-time.After(plan.takeover):
	}
	sk.reads, sk.unread = f.rec.endTakeover()
	if left := m.leftAt(id); left.After(at) {
		sk.detected = left.Sub(at)
	}
	return sk, nil
}
