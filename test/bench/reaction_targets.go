package bench

import (
	"fmt"
	"time"
)

// reactionTarget is a design target of issue 10 or 11, checked at the 95th percentile over a
// lane's trials (with fewer than 20 trials that is the slowest one).
type reactionTarget struct {
	name string
	tr   transition
	// applies says which lanes the target is about.
	applies func(*lane) bool
	// limit is the bound for a lane.
	limit func(*lane) time.Duration
}

var targetsOfReaction = []reactionTarget{
	{
		name: "issue 11: 0→20 within 2 s of the burst at pollingInterval 1 s", tr: transitions[1],
		applies: func(l *lane) bool { return l.fastPath && l.interval == time.Second },
		limit:   func(*lane) time.Duration { return 2 * time.Second },
	},
	{
		name: "issue 11: 0→1 within 200 ms of the publish, push-capable source", tr: transitions[0],
		applies: func(l *lane) bool { return l.push },
		limit:   func(*lane) time.Duration { return 200 * time.Millisecond },
	},
	{
		name: "issue 11: 20→0 within cooldown + 1 s", tr: transitions[2],
		applies: func(l *lane) bool { return true },
		limit:   func(*lane) time.Duration { return cooldown + time.Second },
	},
	{
		name: "issue 10: 0→1 within pollingInterval + 100 ms", tr: transitions[0],
		applies: func(l *lane) bool { return true },
		limit:   func(l *lane) time.Duration { return l.interval + 100*time.Millisecond },
	},
}

func reactionTargets(lanes []*lane) []Target {
	var out []Target
	for _, rt := range targetsOfReaction {
		for _, l := range lanes {
			if !rt.applies(l) {
				continue
			}
			limit := rt.limit(l)
			s := Summarize(l.values(rt.tr))
			tg := Target{Name: fmt.Sprintf("%s (%s)", rt.name, l.name()), Want: "p95 ≤ " + Seconds(limit)}
			switch {
			case s.N == 0:
				tg.Got, tg.Miss = "not measured", "no trial completed"
			default:
				tg.Got = fmt.Sprintf("p95 %s (median %s, %d trials)", Seconds(s.P95), Seconds(s.Median), s.N)
				tg.Met = s.P95 <= limit
				if !tg.Met {
					tg.Miss = "by " + Seconds(s.P95-limit)
				}
			}
			out = append(out, tg)
		}
	}
	return out
}

// reactionNotes say how many trials each lane ran and why, how the lanes shared the machine,
// how the breakdown is derived, and what failed.
func reactionNotes(lanes []*lane, env Env) []string {
	notes := []string{
		"The lanes run side by side, each with its own namespace, queue and ScaledObject; one lane at a time publishes and scales up (the others may meanwhile be draining or cooling down), so the fast part is not shared with another lane's burst.",
		"Each trial waits a random part of the pollingInterval before its burst, and again before the drain, so both fall anywhere between two polls.",
		"Targets are judged at the 95th percentile (nearest rank; with fewer than 20 trials that is the slowest trial).",
		"Breakdown: the poll's start is its reading's observedAt (stamped when the read returns) less the poll duration; readings carry no start time, so the poll duration is the median of " +
			fmt.Sprint(pollTimings) + " reads of the same source by the poller's own scaler code, timed in the benchmark process. " +
			"The bus hops are timed by the benchmark's tap (a subscriber as the tap role), which receives each message when the decider or actuator does. The steps add up to 0→1.",
	}
	if env.Quick {
		notes = append(notes, "Quick run (-quick): 2 trials per lane, 1 with the fast path off. Not a run to quote.")
	}
	for _, l := range lanes {
		done, traced := len(l.completed()), len(l.traced())
		n := fmt.Sprintf("%s: %d of %d trials wanted completed, %d with the 0→1 path seen whole on the bus; poll duration %s (median of %d reads)",
			l.name(), done, l.want, traced, Milliseconds(l.pollDuration()), len(l.pollDur))
		if len(l.trials) < l.want && l.err == nil && !env.Quick {
			n += fmt.Sprintf("; stopped after %d trials for the scenario's time budget (trials beyond %d run only within %s of the start)", len(l.trials), l.min, trialBudget)
		}
		notes = append(notes, n+".")
		for i, t := range l.trials {
			if t.err != nil {
				notes = append(notes, fmt.Sprintf("%s: trial %d failed: %v", l.name(), i+1, t.err))
			}
		}
		if l.err != nil {
			notes = append(notes, fmt.Sprintf("%s: lane stopped: %v", l.name(), l.err))
		}
	}
	return notes
}
