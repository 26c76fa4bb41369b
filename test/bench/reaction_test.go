package bench

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/msg"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestReplicaLogWaitFor(t *testing.T) {
	tests := map[string]struct {
		counts []int32
		times  []int // ms after t0
		since  int
		ok     func(int32) bool
		want   int // ms after t0; -1: times out
	}{
		"first count reaching the bound after since":  {counts: []int32{0, 4, 20}, times: []int{0, 100, 200}, since: 50, ok: atLeast(20), want: 200},
		"a count in force at since is seen at since":  {counts: []int32{0, 20}, times: []int{0, 100}, since: 150, ok: atLeast(20), want: 150},
		"a count over before since is not seen":       {counts: []int32{20, 0}, times: []int{0, 100}, since: 150, ok: atLeast(20), want: -1},
		"equals picks the exact count":                {counts: []int32{20, 1, 0}, times: []int{0, 100, 200}, since: 50, ok: equals(0), want: 200},
		"a count reached before since but left after": {counts: []int32{0, 1, 20}, times: []int{0, 100, 300}, since: 200, ok: atLeast(1), want: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := &replicaLog{changed: make(chan struct{})}
			for i, n := range tc.counts {
				l.add(at(tc.times[i]), n)
			}
			got, err := l.waitFor(context.Background(), at(tc.since), tc.ok, 10*time.Millisecond)
			if tc.want < 0 {
				if err == nil {
					t.Fatalf("waitFor = %s, want a timeout", got)
				}
				return
			}
			if err != nil || !got.Equal(at(tc.want)) {
				t.Errorf("waitFor = %s, %v; want %s", got.Sub(t0), err, at(tc.want).Sub(t0))
			}
		})
	}
}

// TestReplicaLogWaitsForNewCounts: a count added while waitFor waits ends the wait.
func TestReplicaLogWaitsForNewCounts(t *testing.T) {
	l := &replicaLog{changed: make(chan struct{})}
	l.add(at(0), 0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.add(at(500), 20)
	}()
	got, err := l.waitFor(context.Background(), at(100), atLeast(20), 5*time.Second)
	if err != nil || !got.Equal(at(500)) {
		t.Errorf("waitFor = %s, %v; want 500ms", got.Sub(t0), err)
	}
}

// busPath is a 0→N path as the tap sees it: a reading at 300 ms (received 301), its decision
// at 302 (received 304) and the scale action at 310 (received 311).
func busPath(to int32) *tapLog {
	r := msg.Reading{Trigger: msg.TriggerRef{Index: 0}, Value: 100, Active: true, ObservedAt: at(300)}
	d := msg.Decision{DesiredReplicas: to, Reason: msg.ReasonFastPath, DecidedAt: at(302), Decider: "d1", Inputs: []msg.Reading{r}}
	a := msg.Action{Operation: msg.OpScale, From: msg.Count(0), To: msg.Count(to), Result: msg.ResultOK, At: at(310), Decision: d.DecisionRef()}
	return &tapLog{
		readings:  []tapped[msg.Reading]{{at(101), msg.Reading{ObservedAt: at(100)}}, {at(301), r}},
		decisions: []tapped[msg.Decision]{{at(304), d}},
		actions:   []tapped[msg.Action]{{at(311), a}},
	}
}

func TestActivation(t *testing.T) {
	tests := map[string]struct {
		tap     *tapLog
		since   time.Time
		want    time.Time // the reading's observedAt
		wantErr string
	}{
		"action, decision and reading found": {tap: busPath(20), since: at(200), want: at(300)},
		"no action after since":              {tap: busPath(20), since: at(400), wantErr: "no scale action from 0"},
		"decision missing": {tap: func() *tapLog { l := busPath(20); l.decisions = nil; return l }(), since: at(200),
			wantErr: "decision of the scale action"},
		"reading missing": {tap: func() *tapLog { l := busPath(20); l.readings = l.readings[:1]; return l }(), since: at(200),
			wantErr: "reading of the decision"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := tc.tap.activation(tc.since)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("activation error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !p.reading.m.ObservedAt.Equal(tc.want) {
				t.Errorf("activation = reading at %s, %v; want %s", p.reading.m.ObservedAt.Sub(t0), err, tc.want.Sub(t0))
			}
		})
	}
}

// TestPathStepsAddUp: the breakdown's steps are consecutive spans of 0→1.
func TestPathStepsAddUp(t *testing.T) {
	p, err := busPath(20).activation(at(0))
	if err != nil {
		t.Fatal(err)
	}
	tr := trial{publishAt: at(50), up1: at(315), path: p}
	poll := 7 * time.Millisecond
	var got []time.Duration
	var sum time.Duration
	for _, st := range pathSteps {
		d := st.of(tr, poll)
		got, sum = append(got, d), sum+d
	}
	want := []time.Duration{243 * time.Millisecond, 7 * time.Millisecond, time.Millisecond, time.Millisecond,
		2 * time.Millisecond, 6 * time.Millisecond, 5 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if sum != tr.up1.Sub(tr.publishAt) {
		t.Errorf("steps add up to %s, 0→1 is %s", sum, tr.up1.Sub(tr.publishAt))
	}
}

// laneWith is a lane whose completed trials took the given 0→1, 0→20 and 20→0, in ms.
func laneWith(l lane, ms ...[3]int) *lane {
	for _, m := range ms {
		l.trials = append(l.trials, trial{publishAt: at(0), up1: at(m[0]), up20: at(m[1]), drainAt: at(0), down0: at(m[2])})
	}
	return &l
}

func TestReactionTargets(t *testing.T) {
	rabbit := laneWith(lane{source: "rabbitmq", interval: time.Second, fastPath: true},
		[3]int{800, 900, 10500}, [3]int{1200, 1300, 11800})
	nats := laneWith(lane{source: "nats-jetstream", interval: 30 * time.Second, fastPath: true, push: true},
		[3]int{40, 150, 25000})
	got := map[string]Target{}
	for _, tg := range reactionTargets([]*lane{rabbit, nats}) {
		got[tg.Name] = tg
	}
	check := func(name string, met bool, miss string) {
		t.Helper()
		tg, ok := got[name]
		if !ok {
			t.Errorf("no target %q among %v", name, got)
			return
		}
		if tg.Met != met || tg.Miss != miss {
			t.Errorf("%s: met %v, miss %q; want %v, %q (%+v)", name, tg.Met, tg.Miss, met, miss, tg)
		}
	}
	check("issue 11: 0→20 within 2 s of the burst at pollingInterval 1 s (rabbitmq, 1 s)", true, "")
	check("issue 11: 0→1 within 200 ms of the publish, push-capable source (nats-jetstream, 30 s, push)", true, "")
	check("issue 11: 20→0 within cooldown + 1 s (rabbitmq, 1 s)", false, "by 0.800 s")
	check("issue 11: 20→0 within cooldown + 1 s (nats-jetstream, 30 s, push)", false, "by 14.0 s")
	check("issue 10: 0→1 within pollingInterval + 100 ms (rabbitmq, 1 s)", false, "by 0.100 s")
	check("issue 10: 0→1 within pollingInterval + 100 ms (nats-jetstream, 30 s, push)", true, "")
	if len(got) != 6 {
		t.Errorf("%d targets, want 6: the 0→20 target is only about pollingInterval 1 s, the push one only about push lanes", len(got))
	}
}

func TestPlan(t *testing.T) {
	tests := map[string]struct {
		env           Env
		want, least   int
		off, offLeast int
	}{
		"default trials want 20, run at least 5": {env: Env{Trials: 5}, want: 20, least: 5, off: 3, offLeast: 3},
		"more trials than 20 are all wanted":     {env: Env{Trials: 30}, want: 30, least: 30, off: 3, offLeast: 3},
		"quick runs two, one with the HPA alone": {env: Env{Trials: 5, Quick: true}, want: 2, least: 2, off: 1, offLeast: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lanes := plan(tc.env)
			for _, l := range lanes {
				want, least := tc.want, tc.least
				if !l.fastPath {
					want, least = tc.off, tc.offLeast
				}
				if l.want != want || l.min != least {
					t.Errorf("lane %s: want %d, min %d; want %d, %d", l.name(), l.want, l.min, want, least)
				}
			}
		})
	}
}

func TestWriteTrials(t *testing.T) {
	p, err := busPath(20).activation(at(0))
	if err != nil {
		t.Fatal(err)
	}
	l := laneWith(lane{source: "rabbitmq", interval: time.Second, fastPath: true}, [3]int{315, 315, 9700})
	l.trials[0].path = p
	l.trials = append(l.trials, trial{publishAt: at(0), err: errors.New("0→1: not reached")})
	path := filepath.Join(t.TempDir(), "trials.csv")
	if err := writeTrials(path, []*lane{l}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and two trials: %q", len(rows), rows)
	}
	if got := rows[1][4:7]; !cmp.Equal(got, []string{"315.000", "315.000", "9700.000"}) {
		t.Errorf("0→1, 0→20, 20→0 of trial 1: %q", got)
	}
	if got := rows[1][7]; got != "300.000" {
		t.Errorf("poll wait of trial 1: %q, want 300.000 (published at 0, read at 300 ms, no poll duration timed)", got)
	}
	if last := rows[2][len(rows[2])-1]; !strings.Contains(last, "not reached") {
		t.Errorf("failed trial's error column: %q", last)
	}
}
