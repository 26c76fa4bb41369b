package bench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// transition is one of the three timed changes of a trial.
type transition struct {
	name, chart string
	of          func(trial) time.Duration
	// logY: the lanes' values span milliseconds (push) to a minute (the HPA alone).
	logY bool
}

var transitions = []transition{
	{"0→1", "reaction-0to1", func(t trial) time.Duration { return since(t.publishAt, t.up1) }, true},
	{"0→20", "reaction-0to20", func(t trial) time.Duration { return since(t.publishAt, t.up20) }, true},
	{"20→0", "reaction-20to0", func(t trial) time.Duration { return since(t.drainAt, t.down0) }, false},
}

// values are a lane's durations of one transition over its completed trials.
func (l *lane) values(tr transition) []time.Duration {
	var out []time.Duration
	for _, t := range l.completed() {
		out = append(out, tr.of(t))
	}
	return out
}

func reactionSection(lanes []*lane, env Env) Section {
	sec := Section{
		Title: "Reaction latency: 0→1, 0→20, 20→0",
		Intro: fmt.Sprintf("A Deployment at 0 replicas and a ScaledObject (value %s per replica, maxReplicaCount %d, cooldownPeriod %s) "+
			"get a burst of %d messages; once at %d replicas the queue is drained (purged). A watch on the Deployment's spec.replicas "+
			"times 0→1 and 0→%d from the first message published, and %d→0 from the drain. Local control plane with "+
			"kube-controller-manager (the real HPA), the bus with a password per role, each service a separate process.",
			perReplica, maxReplicas, cooldown, burstSize, burstTarget, burstTarget, burstTarget),
	}
	sec.Tables = append(sec.Tables, latencyTable(lanes), kedaTable(lanes), breakdownTable(lanes))
	for _, tr := range transitions {
		sec.Charts = append(sec.Charts, trialChart(lanes, tr))
	}
	sec.Targets = reactionTargets(lanes)
	sec.Notes = reactionNotes(lanes, env)
	return sec
}

func latencyTable(lanes []*lane) Table {
	t := Table{Columns: []string{"source", "pollingInterval", "wake-ups", "fast path", "transition", "trials", "median", "p95", "min – max"}}
	for _, l := range lanes {
		for _, tr := range transitions {
			s := Summarize(l.values(tr))
			row := []string{l.source, intervalString(l.interval), onOff(l.push, "push", "polling only"), onOff(l.fastPath, "on", "off"), tr.name, fmt.Sprint(s.N)}
			if s.N == 0 {
				row = append(row, "–", "–", "–")
			} else {
				row = append(row, Seconds(s.Median), Seconds(s.P95), Seconds(s.Min)+" – "+Seconds(s.Max))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// kedaTable sets the medians next to KEDA v2.20.2's, as issue 11 quotes them (same workload,
// a local control plane on a 2-core machine).
func kedaTable(lanes []*lane) Table {
	t := Table{Columns: []string{"measure", "KEDA v2.20.2 (median)", "ebb (median)"}}
	median := func(match func(*lane) bool, tr transition) string {
		var parts []string
		for _, l := range lanes {
			if match(l) {
				if s := Summarize(l.values(tr)); s.N > 0 {
					parts = append(parts, fmt.Sprintf("%s (%s)", Seconds(s.Median), l.name()))
				}
			}
		}
		if len(parts) == 0 {
			return "not measured"
		}
		return strings.Join(parts, "; ")
	}
	at := func(d time.Duration) func(*lane) bool { return func(l *lane) bool { return l.interval == d } }
	t.Rows = [][]string{
		{"0→20 after the burst, pollingInterval 1 s", "60 s", median(at(time.Second), transitions[1])},
		{"0→20 after the burst, pollingInterval 30 s", "82 s", median(at(30*time.Second), transitions[1])},
		{"0→1 (wake from zero), pollingInterval 30 s", "25 s", median(at(30*time.Second), transitions[0])},
	}
	return t
}

func onOff(b bool, on, off string) string {
	if b {
		return on
	}
	return off
}

func trialChart(lanes []*lane, tr transition) Chart {
	c := Chart{Name: tr.chart, Title: tr.name + " per trial", XLabel: "trial", YLabel: "seconds", LogY: tr.logY}
	for _, l := range lanes {
		s := Series{Name: l.name()}
		for i, d := range l.values(tr) {
			s.Points = append(s.Points, Point{X: float64(i + 1), Y: d.Seconds()})
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// A step of the 0→1 path, computed from one trial's path and the lane's poll duration.
type pathStep struct {
	name string
	of   func(t trial, poll time.Duration) time.Duration
}

// pathSteps split 0→1 into consecutive spans that add up to it. The poll's start is its
// reading's observedAt (stamped when the read returned) less the poll duration, which is
// timed apart (the reading carries no start). The tap's receipt of a message stands for the
// decider's and the actuator's: they subscribe to the same subjects on the same bus.
var pathSteps = []pathStep{
	{"poll wait (publish → poll starts)", func(t trial, poll time.Duration) time.Duration {
		return t.path.reading.m.ObservedAt.Add(-poll).Sub(t.publishAt)
	}},
	{"poll duration (the scaler's read)", func(_ trial, poll time.Duration) time.Duration { return poll }},
	{"bus hop (reading published → received)", func(t trial, _ time.Duration) time.Duration {
		return t.path.reading.recv.Sub(t.path.reading.m.ObservedAt)
	}},
	{"decision (reading received → decidedAt)", func(t trial, _ time.Duration) time.Duration {
		return t.path.decision.m.DecidedAt.Sub(t.path.reading.recv)
	}},
	{"decision published (state saved, bus hop)", func(t trial, _ time.Duration) time.Duration {
		return t.path.decision.recv.Sub(t.path.decision.m.DecidedAt)
	}},
	{"API write (actuator: scale subresource written)", func(t trial, _ time.Duration) time.Duration {
		return t.path.action.m.At.Sub(t.path.decision.recv)
	}},
	{"watch delivers the new spec.replicas", func(t trial, _ time.Duration) time.Duration {
		return t.up1.Sub(t.path.action.m.At)
	}},
}

// breakdownTable gives each lane's median of every step over the trials whose path the tap
// saw whole, then the median 0→1 of those trials, then the HPA's share.
func breakdownTable(lanes []*lane) Table {
	t := Table{Columns: []string{"0→1 step (median)"}}
	for _, l := range lanes {
		t.Columns = append(t.Columns, l.name())
	}
	for _, st := range pathSteps {
		row := []string{st.name}
		for _, l := range lanes {
			row = append(row, medianOver(l.traced(), func(tr trial) time.Duration { return st.of(tr, l.pollDuration()) }))
		}
		t.Rows = append(t.Rows, row)
	}
	total := []string{"**0→1, same trials**"}
	hpa := []string{"HPA sync (1 → 20 by the HPA)"}
	for _, l := range lanes {
		total = append(total, medianOver(l.traced(), transitions[0].of))
		if l.fastPath {
			hpa = append(hpa, "– (ebb writes 20)")
		} else {
			hpa = append(hpa, medianOver(l.completed(), func(tr trial) time.Duration { return tr.up20.Sub(tr.up1) }))
		}
	}
	t.Rows = append(t.Rows, total, hpa)
	return t
}

// traced are the completed trials whose 0→1 path the tap saw whole.
func (l *lane) traced() []trial {
	var out []trial
	for _, t := range l.completed() {
		if t.pathErr == nil {
			out = append(out, t)
		}
	}
	return out
}

// pollDuration is the median timed read of the lane's source (0 when none was timed).
func (l *lane) pollDuration() time.Duration {
	return Summarize(l.pollDur).Median
}

func medianOver(trials []trial, of func(trial) time.Duration) string {
	var ds []time.Duration
	for _, t := range trials {
		ds = append(ds, of(t))
	}
	s := Summarize(ds)
	if s.N == 0 {
		return "–"
	}
	return Milliseconds(s.Median)
}

// Milliseconds formats d in milliseconds: two decimals below 10 ms, one above ("0.42 ms",
// "1203.5 ms").
func Milliseconds(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms > -10 && ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// writeTrials writes every trial of every lane as CSV: the raw times and the 0→1 steps in
// milliseconds, for looking into a slow trial.
func writeTrials(path string, lanes []*lane) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	head := []string{"lane", "trial", "publish", "burst stored ms", "0→1 ms", "0→20 ms", "20→0 ms"}
	for _, st := range pathSteps {
		head = append(head, st.name+" ms")
	}
	_ = w.Write(append(head, "error"))
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	for _, l := range lanes {
		for i, t := range l.trials {
			row := []string{l.name(), strconv.Itoa(i + 1), t.publishAt.UTC().Format(time.RFC3339Nano), ms(since(t.publishAt, t.burstDone))}
			for _, tr := range transitions {
				row = append(row, ms(tr.of(t)))
			}
			for _, st := range pathSteps {
				if t.pathErr != nil || t.err != nil {
					row = append(row, "")
					continue
				}
				row = append(row, ms(st.of(t, l.pollDuration())))
			}
			row = append(row, errString(errors.Join(t.err, t.pathErr)))
			_ = w.Write(row)
		}
	}
	w.Flush()
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
