package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"ebb.dev/bus"
)

// Reaction times ebb's reaction to work (issue 10 item 1, issue 11 "Figures"): a Deployment
// at 0 with a ScaledObject (value 5, max 30, cooldown 10 s) gets a burst of 100 messages,
// then its queue is drained; a watch on the Deployment times 0→1, 0→20 and 20→0. Lanes:
// RabbitMQ and NATS JetStream (with push wake-ups) at pollingInterval 1 s and 30 s, and
// RabbitMQ at 1 s with the fast path off, to show what the HPA alone gives.
func Reaction() Scenario {
	return Scenario{Name: "reaction", Run: runReaction}
}

const (
	// wantTrials is what issue 10 asks per 0→1 figure.
	wantTrials = 20
	// fastPathOffTrials: the HPA's growth takes a minute a trial, and only shows its pace.
	fastPathOffTrials = 3
	// trialBudget bounds the lanes' trials beyond -trials, so the scenario stays near 15 min.
	trialBudget = 13 * time.Minute
	// pollTimings is how many reads of each lane's source are timed for the poll duration.
	pollTimings = 20
)

// plan lists the lanes: each wants max(-trials, 20) trials and runs at least -trials; -quick
// runs two of each (one with the fast path off).
func plan(env Env) []*lane {
	want, least, off := max(env.Trials, wantTrials), env.Trials, fastPathOffTrials
	if env.Quick {
		want, least, off = 2, 2, 1
	}
	lanes := []*lane{
		{source: "rabbitmq", interval: time.Second, fastPath: true},
		{source: "rabbitmq", interval: 30 * time.Second, fastPath: true},
		{source: "nats-jetstream", interval: time.Second, fastPath: true, push: true},
		{source: "nats-jetstream", interval: 30 * time.Second, fastPath: true, push: true},
		{source: "rabbitmq", interval: time.Second, fastPath: false, want: off, min: off},
	}
	for i, l := range lanes {
		l.ns = fmt.Sprintf("reaction-%d", i+1)
		if l.want == 0 {
			l.want, l.min = want, least
		}
	}
	return lanes
}

func runReaction(ctx context.Context, env Env) (Section, error) {
	started := time.Now()
	sec := Section{Title: "Reaction latency: 0→1, 0→20, 20→0"}
	p, err := startPlatform(ctx, env, platformOptions{})
	if err != nil {
		return sec, err
	}
	defer func() {
		if err := p.stop(); err != nil {
			env.Log.Warn("stop platform", "error", err)
		}
	}()
	// Cancelled first, when the scenario returns: it ends the watches before the control
	// plane stops.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rabbit, err := startRabbit(ctx, env.Dir)
	if err != nil {
		return sec, err
	}
	defer rabbit.stop()
	natsSrc, err := startNATS(env.Dir)
	if err != nil {
		return sec, err
	}
	defer natsSrc.stop()
	tapConn, err := p.ebb.Connect(ctx, bus.RoleTap)
	if err != nil {
		return sec, fmt.Errorf("tap: %w", err)
	}
	defer tapConn.Close()

	lanes := plan(env)
	if err := setupLanes(ctx, p, tapConn, rabbit, natsSrc, lanes, env); err != nil {
		return sec, err
	}
	env.Log.Info("lanes ready; trials start", "lanes", len(lanes), "setup", time.Since(started).Round(time.Second))
	runLanes(ctx, lanes, started.Add(trialBudget))
	for _, l := range lanes {
		if l.pollDur, err = timeReads(ctx, l.q, pollTimings); err != nil {
			env.Log.Warn("time the source's reads", "lane", l.name(), "error", err)
		}
	}
	sec = reactionSection(lanes, env)
	csvPath := filepath.Join(env.Dir, "trials.csv")
	if err := writeTrials(csvPath, lanes); err != nil {
		env.Log.Warn("write trials", "error", err)
	} else {
		sec.Notes = append(sec.Notes, "Every trial, with its 0→1 steps: "+csvPath+".")
	}
	return sec, laneErrors(lanes)
}

// setupLanes gives every lane its queue and objects, then waits until each is polled.
func setupLanes(ctx context.Context, p *platform, tapConn *bus.Conn, rabbit *rabbitSource, natsSrc *natsSource, lanes []*lane, env Env) error {
	since := time.Now()
	for _, l := range lanes {
		l.log = env.Log.With("lane", l.name())
		var err error
		if l.source == "rabbitmq" {
			l.q, err = rabbit.queue(ctx, l.ns)
		} else {
			l.q, err = natsSrc.queue(ctx, "jobs-"+l.ns)
		}
		if err != nil {
			return err
		}
		if err := l.setup(ctx, p, tapConn); err != nil {
			return fmt.Errorf("lane %s: %w", l.name(), err)
		}
	}
	for _, l := range lanes {
		if err := l.ready(ctx, since); err != nil {
			return fmt.Errorf("lane %s: %w", l.name(), err)
		}
	}
	return nil
}

// runLanes runs the lanes side by side and returns when all are done.
func runLanes(ctx context.Context, lanes []*lane, deadline time.Time) {
	var upLock sync.Mutex
	var wg sync.WaitGroup
	for _, l := range lanes {
		wg.Go(func() {
			l.run(ctx, &upLock, deadline)
			l.q.close()
			l.tap.stop()
		})
	}
	wg.Wait()
}

// laneErrors is the error of every lane that stopped early or completed no trial.
func laneErrors(lanes []*lane) error {
	var errs []error
	for _, l := range lanes {
		if l.err != nil {
			errs = append(errs, fmt.Errorf("lane %s: %w", l.name(), l.err))
		} else if len(l.completed()) == 0 {
			errs = append(errs, fmt.Errorf("lane %s: %w", l.name(), errNoTrials))
		}
	}
	return errors.Join(errs...)
}

// completed are the trials that went all the way round.
func (l *lane) completed() []trial {
	var out []trial
	for _, t := range l.trials {
		if t.err == nil {
			out = append(out, t)
		}
	}
	return out
}
