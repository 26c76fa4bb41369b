package decider

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ebb.dev/schemas/msg"
	"ebb.dev/services/decider/decide"
)

// retryAfter is how soon a decision that failed for want of cluster or bus state is retried.
const retryAfter = 2 * time.Second

// decide makes one decision for an object whose partition this replica holds, saves the
// object's state, and publishes the decision when it says something new or an interval has
// passed since the last one. It calls schedule with when the object must be decided again
// without a new input before it publishes, so whoever sees the decision can rely on the next
// one being scheduled (tests that move a fake clock do).
func (d *decider) decide(ctx context.Context, o *object, schedule func(time.Time)) {
	now := d.clock.Now()
	log := d.objectLog(o.spec.ref)
	if !o.loaded {
		rec, err := d.state.load(ctx, o.key)
		if err != nil {
			log.Warn("read decider state; retrying", "error", err)
			schedule(now.Add(retryAfter))
			return
		}
		o.rec = record{}
		if rec.UID == o.spec.ref.UID {
			o.rec = rec
			o.merge(rec)
		}
		o.loaded = true
	}
	s := o.spec
	if wait := o.seen.Add(s.interval); o.rec.Published.IsZero() && now.Before(wait) && o.unread() {
		// A new object whose pollers have not reported yet: "no reading yet" is not news
		// worth a decision until a polling interval has passed without one.
		schedule(wait)
		return
	}
	if s.sj != nil && now.Before(o.rec.Published.Add(s.interval)) {
		schedule(o.rec.Published.Add(s.interval))
		return
	}
	dec, lastActive, next, err := d.evaluate(ctx, o, now)
	if err != nil {
		// The cluster has no count for the target (say, it does not exist yet): the actuator
		// reports that; try again at the next reading or interval.
		log.Warn("decision postponed", "error", err)
		schedule(now.Add(s.interval))
		return
	}
	dg := digest(dec)
	publish := s.sj != nil || dg != o.rec.Digest || !now.Before(o.rec.Published.Add(s.interval))
	rec := o.snapshot(lastActive, o.rec.Published, o.rec.Digest)
	if publish {
		rec.Published, rec.Digest = now, dg
	}
	// The state goes first: a decision published and then forgotten by a crash would be
	// published again, and a ScaledJob's Jobs created twice.
	if !rec.equal(o.rec) {
		if err := d.state.save(ctx, o.key, rec); err != nil {
			log.Warn("save decider state; decision postponed", "error", err)
			schedule(now.Add(retryAfter))
			return
		}
	}
	o.rec = rec
	due := o.rec.Published.Add(s.interval)
	if s.sj == nil {
		// A ScaledObject's next reading is due an interval after this one: deciding again at
		// exactly that instant would race it and publish the same decision just before the
		// new one. A quarter interval later, silence is still reported within the interval
		// after, and the reading, when it comes, is decided at once.
		due = due.Add(s.interval / 4)
	}
	if !next.IsZero() && next.Before(due) {
		// Result.Next is the last instant the decision holds: the change comes just after.
		due = next.Add(time.Nanosecond)
	}
	if !publish {
		o.pending = time.Time{} // decided: nothing new to say
		schedule(due)
		return
	}
	if err := d.publish(ctx, dec, func() { schedule(due) }); err != nil {
		log.Error("publish decision", "error", err)
		o.rec.Digest = 0 // publish again at the next decision
		schedule(now.Add(retryAfter))
		return
	}
	d.metrics.published(dec.Reason, o.pending, d.clock.Now())
	o.pending = time.Time{}
	o.outcome = d.logDecision(log, dec, o.outcome)
}

// evaluate runs the pure decision on o's inputs and returns it as a message, with the
// object's lastActiveTime after it and when it changes by itself (zero: never).
func (d *decider) evaluate(ctx context.Context, o *object, now time.Time) (msg.Decision, time.Time, time.Time, error) {
	s := o.spec
	readings, used := o.inputs(now)
	dec := msg.Decision{
		Object: s.ref, Inputs: used, PollingInterval: int32(s.interval / time.Second),
		DecidedAt: now, Decider: d.cfg.ID,
	}
	if s.sj != nil {
		running, pending, err := d.cluster.Jobs(ctx, s.ref.Namespace, s.ref.Name, s.pending)
		if err != nil {
			return dec, time.Time{}, time.Time{}, err
		}
		res := decide.Jobs(decide.JobInput{Now: now, Policy: s.sj, Running: running, Pending: pending, LastActive: o.rec.LastActive, Readings: readings})
		dec.DesiredReplicas, dec.CurrentReplicas = running+res.Create, running
		dec.Active, dec.Reason = res.Active, msg.Reason(res.Reason)
		dec.Jobs = &msg.Jobs{Create: res.Create, Running: running, Pending: pending}
		return dec, res.LastActive, time.Time{}, nil
	}
	pods, err := d.cluster.Replicas(ctx, s.ref.Namespace, s.target)
	if err != nil {
		return dec, time.Time{}, time.Time{}, err
	}
	if o.scaleUp == nil {
		o.scaleUp = s.so.NewScaleUp()
	}
	res := decide.Replicas(decide.Input{Now: now, Policy: s.so, Replicas: pods.Replicas, Pods: &pods,
		LastActive: o.rec.LastActive, Readings: readings, ScaleUp: o.scaleUp})
	dec.DesiredReplicas, dec.CurrentReplicas = res.Replicas, pods.Replicas
	dec.Active, dec.Reason, dec.NextChangeAt = res.Active, msg.Reason(res.Reason), res.Next
	dec.Metrics = metrics(s.so.Spec(), res.Metrics, readings, o, now)
	return dec, res.LastActive, res.Next, nil
}

// metrics are the values the HPA must be served, with what metrics-api and the actuator need
// to know about each: an error instead of a value, a fallback value, the failure count.
func metrics(spec decide.Spec, served []decide.Metric, readings []decide.Reading, o *object, now time.Time) []msg.MetricValue {
	out := make([]msg.MetricValue, len(served))
	for i, m := range served {
		mv := msg.MetricValue{Name: m.Name, Value: m.Value, Fallback: m.Source == decide.SourceFallback}
		trigger := -1
		for j, t := range spec.Triggers {
			if t.Metric == m.Name {
				trigger = j
			}
		}
		if trigger >= 0 {
			mv.Failures = readings[trigger].Failures
		} else { // the composite metric: the worst of its triggers
			for _, r := range readings {
				mv.Failures = max(mv.Failures, r.Failures)
			}
		}
		if m.Source == decide.SourceNone {
			mv.Value, mv.Error = 0, noValue(spec, trigger, readings, o, now)
		}
		out[i] = mv
	}
	return out
}

// noValue says why a metric has no value to serve.
func noValue(spec decide.Spec, trigger int, readings []decide.Reading, o *object, now time.Time) string {
	why := func(i int) string {
		r := o.reading(i)
		switch {
		case readings[i].Missing:
			return fmt.Sprintf("trigger %d: no reading yet", i)
		case r.Error == "": // stale
			return fmt.Sprintf("trigger %d: no reading for %s: is a poller running for it?", i, now.Sub(r.ObservedAt).Round(time.Second))
		}
		return fmt.Sprintf("trigger %d: %s", i, r.Error)
	}
	if trigger >= 0 {
		return why(trigger)
	}
	for i, t := range spec.Triggers {
		if !t.Resource && readings[i].Failed() {
			return "scalingModifiers formula has no value: " + why(i)
		}
	}
	return "scalingModifiers formula has no value"
}

// logDecision logs a published decision: at info when its outcome (replicas, activity,
// reason, Jobs to create) differs from last, at debug otherwise. It returns the outcome.
func (d *decider) logDecision(log *slog.Logger, dec msg.Decision, last string) string {
	outcome := fmt.Sprint(dec.DesiredReplicas, dec.Active, dec.Reason)
	attrs := []any{"replicas", dec.DesiredReplicas, "current", dec.CurrentReplicas, "active", dec.Active, "reason", dec.Reason}
	if j := dec.Jobs; j != nil {
		outcome += fmt.Sprint(j.Create)
		attrs = append(attrs, "create", j.Create, "running", j.Running, "pending", j.Pending)
	}
	level := slog.LevelDebug
	if outcome != last {
		level = slog.LevelInfo
	}
	log.Log(context.Background(), level, "decision published", attrs...)
	return outcome
}
