package bench

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"ebb.dev/bus"
)

func shardSection(env Env, plan shardPlan, configs []shardConfig) Section {
	sec := Section{
		Title: "Sharding: load per poller and takeover after a kill",
		Intro: fmt.Sprintf("The scale scenario's fleet at %d ScaledObjects, polled by 1, 2 and 4 poller processes in one shard group "+
			"(rendezvous hashing over the live keys of the pollers bucket). Each configuration is measured over %s, one polling interval after the pollers bucket "+
			"holds exactly its members: per poller, the triggers it read (as the bus saw them) against those its hash assigns, readings/s, CPU and peak memory. "+
			"With more than one poller, the last one is then killed (SIGKILL, so its key is not deleted but expires after the bucket's TTL of %s) "+
			"and each of its triggers is followed until another poller reads it.",
			plan.size, plan.window, bus.DefaultPollerTTL),
	}
	if len(configs) == 0 {
		return sec
	}
	sec.Tables = []Table{loadTable(configs), takeoverTable(configs)}
	sec.Charts = shardCharts(configs)
	sec.Notes = shardNotes(env, configs)
	return sec
}

func loadTable(configs []shardConfig) Table {
	t := Table{Columns: []string{"pollers", "poller", "triggers read", "owned by hash", "readings/s", "CPU s/min", "peak RSS (VmHWM)"}}
	for _, c := range configs {
		secs := c.win.end.Sub(c.win.start).Seconds()
		for i := range c.pollers {
			id := pollerID(i)
			load := c.win.pollers[id]
			read, readings := 0, 0
			if load != nil {
				read, readings = len(load.triggers), load.readings
			}
			u := c.usage[pollerProcesses[i]]
			t.Rows = append(t.Rows, []string{strconv.Itoa(c.pollers), id, strconv.Itoa(read), strconv.Itoa(c.owned[id]),
				fmt.Sprintf("%.1f", float64(readings)/secs), fmt.Sprintf("%.2f", u.CPUPerMin), mib(u.HWM)})
		}
		if c.pollers > 1 {
			tot := total(c.usage)
			t.Rows = append(t.Rows, []string{strconv.Itoa(c.pollers), "all pollers", "", "",
				fmt.Sprintf("%.1f", float64(c.win.readings)/secs), fmt.Sprintf("%.2f", tot.CPUPerMin), mib(tot.HWM)})
		}
	}
	return t
}

func takeoverTable(configs []shardConfig) Table {
	t := Table{Columns: []string{"pollers", "killed", "orphaned triggers", "key gone after", "kill → read again p50 / max", "late against its slot p50 / max", "not read again"}}
	for _, c := range configs {
		k := c.kill
		if k == nil {
			continue
		}
		since, late := k.delays()
		ss, ls := Summarize(since), Summarize(late)
		detected := "not seen"
		if k.detected > 0 {
			detected = Seconds(k.detected)
		}
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%d → %d", c.pollers, c.pollers-1), k.killed, strconv.Itoa(k.orphans), detected,
			Seconds(ss.Median) + " / " + Seconds(ss.Max), Seconds(ls.Median) + " / " + Seconds(ls.Max), strconv.Itoa(k.unread)})
	}
	return t
}

// delays are, per orphaned trigger read again, the time from the kill to that reading's
// arrival, and how much later it was observed than the slot the killed poller would have
// kept (its last reading plus one interval).
func (k *shardKill) delays() (sinceKill, late []time.Duration) {
	for _, r := range k.reads {
		sinceKill = append(sinceKill, r.after.arrived.Sub(k.at))
		late = append(late, max(0, r.after.observed.Sub(r.before.observed.Add(fleetInterval))))
	}
	return sinceKill, late
}

func shardCharts(configs []shardConfig) []Chart {
	load := Chart{Name: "sharding-load", Title: "Triggers read per poller", XLabel: "poller processes", YLabel: "triggers read in the window"}
	for i := range pollerProcesses {
		s := Series{Name: pollerID(i)}
		for _, c := range configs {
			if p := c.win.pollers[pollerID(i)]; p != nil && i < c.pollers {
				s.Points = append(s.Points, Point{X: float64(c.pollers), Y: float64(len(p.triggers))})
			}
		}
		if len(s.Points) > 0 {
			load.Series = append(load.Series, s)
		}
	}
	takeover := Chart{Name: "sharding-takeover", Title: "Orphaned triggers read again after a kill", XLabel: "share of the orphaned triggers (%)", YLabel: "seconds from the kill"}
	for _, c := range configs {
		if c.kill == nil || c.kill.orphans == 0 {
			continue
		}
		since, _ := c.kill.delays()
		slices.Sort(since)
		s := Series{Name: fmt.Sprintf("%d → %d pollers", c.pollers, c.pollers-1)}
		for i, d := range since {
			s.Points = append(s.Points, Point{X: 100 * float64(i+1) / float64(c.kill.orphans), Y: d.Seconds()})
		}
		takeover.Series = append(takeover.Series, s)
	}
	return []Chart{load, takeover}
}

func shardNotes(env Env, configs []shardConfig) []string {
	notes := []string{
		fmt.Sprintf("A killed poller's triggers move once its key leaves the pollers bucket, up to the TTL (%s) after its last heartbeat (every TTL/3); the new owner then keeps each trigger's slot "+
			"(phase + k × %s), polling at once only those whose slot passed meanwhile (spread over 2 s). So the time from the kill to the next reading is mostly the wait for the slot, as without a kill; "+
			"\"late against its slot\" is the part the kill added.", bus.DefaultPollerTTL, fleetInterval),
		"Triggers read counts distinct triggers with a reading from that poller during the window; owned by hash is shard.Owner over the members for every trigger of the fleet.",
		"Peak RSS is each process's since it started: poller-1 runs through every configuration (and takes all triggers back when poller-2 is killed), and poller-2 is started again for the four.",
	}
	if env.Quick {
		notes = append(notes, "Quick run: 1,000 ScaledObjects and a shorter window.")
	}
	return notes
}
