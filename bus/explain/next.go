package explain

import (
	"fmt"
	"strings"
	"time"

	"ebb.dev/bus/tap"
	"ebb.dev/schemas/msg"
)

// next says what changes the object next, from the last decision's reason.
func (x *explainer) next() []Change {
	d := x.e.Decision
	if d == nil {
		return []Change{{Do: "the first decision comes once every trigger has a reading, or a polling interval after a decider first sees the object"}}
	}
	if d.Jobs != nil {
		return append(x.nextJobs(d), x.failing()...)
	}
	var out []Change
	switch d.Reason {
	case msg.ReasonPaused:
		return []Change{x.paused(d)}
	case msg.ReasonCooldown:
		out = append(out, x.cooldownEnd(d))
	case msg.ReasonDeactivate, msg.ReasonIdle:
		out = append(out, x.atRest(d)...)
	case msg.ReasonActivate:
		out = append(out, Change{Do: fmt.Sprintf("scales to %d to activate; from there the HPA decides between %s", d.DesiredReplicas, x.hpaRange())})
	case msg.ReasonFastPath:
		out = append(out, Change{Do: fmt.Sprintf("went from %d to %d at once on the fast path, without waiting for the HPA's sync; the HPA reads the same values and keeps it", d.CurrentReplicas, d.DesiredReplicas)})
		out = append(out, x.hpa(d)...)
	case msg.ReasonFailing:
		out = append(out, Change{
			Do:     fmt.Sprintf("stays at %d: the object is inactive while a trigger fails, and a failing trigger never scales it to zero", d.DesiredReplicas),
			Unless: "until every trigger reads again",
		})
	default: // hpa, min, max, fallback
		out = append(out, x.hpa(d)...)
	}
	return append(out, x.failing()...)
}

func (x *explainer) nextJobs(d *msg.Decision) []Change {
	c := Change{Do: "decides again", Unless: "and creates Jobs for what the triggers read then"}
	if iv := x.interval(); iv > 0 {
		c.At = d.DecidedAt.Add(iv)
	}
	if s := x.r.Spec; s != nil {
		c.Unless += fmt.Sprintf(", up to maxReplicaCount (%d) Jobs running", s.MaxReplicaCount)
	}
	return []Change{c}
}

func (x *explainer) paused(d *msg.Decision) Change {
	if s := x.r.Spec; s != nil && len(s.Annotations) > 0 {
		return Change{Do: fmt.Sprintf("stays at %d: paused by %s", d.DesiredReplicas, strings.Join(s.Annotations, ", ")), Unless: "until the annotation is removed"}
	}
	return Change{Do: fmt.Sprintf("stays at %d: paused by an annotation", d.DesiredReplicas), Unless: "until it is removed (autoscaling.keda.sh/paused, paused-replicas, paused-scale-in or paused-scale-out)"}
}

// cooldownEnd: an inactive object waits out its cooldown, then scales to zero or idle.
func (x *explainer) cooldownEnd(d *msg.Decision) Change {
	to := "0 (or idleReplicaCount)"
	if s := x.r.Spec; s != nil {
		to = "0"
		if s.IdleReplicaCount != nil {
			to = fmt.Sprintf("idleReplicaCount %d", *s.IdleReplicaCount)
		}
	}
	at := d.NextChangeAt
	if s, st := x.r.Spec, x.r.Status; at.IsZero() && s != nil && st != nil && st.LastActiveTime != nil {
		at = st.LastActiveTime.Add(time.Duration(s.CooldownPeriod) * time.Second)
	}
	c := Change{Do: "scales to " + to, At: at, Unless: "unless " + x.activeWhen()}
	if at.IsZero() {
		c.Do += " once the cooldown has passed since the last active reading"
	}
	return c
}

// atRest: at zero or idle, only activation moves it.
func (x *explainer) atRest(d *msg.Decision) []Change {
	var out []Change
	if d.DesiredReplicas != d.CurrentReplicas {
		out = append(out, Change{Do: fmt.Sprintf("scales from %d to %d: the cooldown is over", d.CurrentReplicas, d.DesiredReplicas)})
	}
	to := "max(minReplicaCount, 1)"
	if s := x.r.Spec; s != nil {
		to = fmt.Sprint(max(s.MinReplicaCount, 1))
	}
	return append(out, Change{Do: fmt.Sprintf("stays at %d", d.DesiredReplicas), Unless: "until " + x.activeWhen() + ", then scales to " + to})
}

// hpa: between 1 and max the HPA moves the count; ebb steps in again at the cooldown's end.
func (x *explainer) hpa(d *msg.Decision) []Change {
	out := []Change{{Do: fmt.Sprintf("the HPA decides between %s; from the values served now it goes to %d", x.hpaRange(), d.DesiredReplicas)}}
	s := x.r.Spec
	switch {
	case s != nil && s.MinReplicaCount > 0 && s.IdleReplicaCount == nil:
		out = append(out, Change{Do: fmt.Sprintf("never goes below minReplicaCount %d, active or not", s.MinReplicaCount)})
	case !d.Active:
	case s != nil && s.ForceActivation:
		out = append(out, Change{Do: "stays active: force-activation is set"})
	case s != nil:
		to := "0"
		if s.IdleReplicaCount != nil {
			to = fmt.Sprintf("idleReplicaCount %d", *s.IdleReplicaCount)
		}
		out = append(out, Change{Do: fmt.Sprintf("scales to %s %ds after the last active reading", to, s.CooldownPeriod), Unless: "once " + x.inactiveWhen()})
	default:
		out = append(out, Change{Do: "scales to 0 (or idleReplicaCount; never below minReplicaCount) a cooldownPeriod after the last active reading", Unless: "once " + x.inactiveWhen()})
	}
	return out
}

// failing says, for each failing trigger, where fallback stands.
func (x *explainer) failing() []Change {
	var out []Change
	for _, t := range x.r.Triggers {
		if t.Resource || t.Failures == 0 {
			continue
		}
		name := t.MetricName
		polls := fmt.Sprintf("%s has failed %d polls in a row", name, t.Failures)
		s := x.r.Spec
		switch {
		case t.Fallback:
			out = append(out, Change{Do: name + " is served its fallback value", Unless: "until it reads again"})
		case s == nil:
			out = append(out, Change{Do: polls + "; whether and when fallback engages is not known without -kubeconfig"})
		case s.Fallback == nil:
			out = append(out, Change{Do: polls + "; no fallback is set, so the HPA gets an error for it and the object is never scaled to zero on it", Unless: "until it reads again"})
		case t.Reading != nil && t.Reading.Target.Type != msg.AverageValue:
			out = append(out, Change{Do: polls + fmt.Sprintf("; fallback applies to AverageValue metrics only, this one is %s", t.Reading.Target.Type)})
		default:
			more := s.Fallback.FailureThreshold + 1 - t.Failures
			if more <= 0 {
				continue // the next decision puts it in fallback
			}
			out = append(out, Change{
				Do:     fmt.Sprintf("fallback engages for %s after %d more failed %s (failureThreshold %d), serving %d replicas' worth", name, more, plural(more, "poll"), s.Fallback.FailureThreshold, s.Fallback.Replicas),
				Unless: "unless it reads again",
			})
		}
	}
	return out
}

// activeWhen is the condition that activates the object.
func (x *explainer) activeWhen() string {
	if s := x.r.Spec; s != nil && s.ActivationTarget != nil {
		return "the scalingModifiers formula exceeds its activationTarget " + *s.ActivationTarget
	}
	return x.thresholds("a reading of %s exceeds %s", "a reading exceeds its activation threshold", ">")
}

// inactiveWhen is the condition that makes the object inactive.
func (x *explainer) inactiveWhen() string {
	if s := x.r.Spec; s != nil && s.ActivationTarget != nil {
		return "the scalingModifiers formula is at or below its activationTarget " + *s.ActivationTarget
	}
	return x.thresholds("%s is at or below %s", "every reading is at or below its activation threshold", "≤")
}

// thresholds phrases a condition on the activation thresholds: one for a single trigger
// (metric, threshold), all for several, with each trigger's threshold when known.
func (x *explainer) thresholds(one, all, op string) string {
	var known []string
	for _, t := range x.r.Triggers {
		if t.Resource {
			continue
		}
		if t.Activation == nil {
			return all
		}
		known = append(known, t.MetricName+" "+op+" "+tap.Number(*t.Activation))
	}
	switch len(known) {
	case 0:
		return all
	case 1:
		t := x.external()
		return fmt.Sprintf(one, t.MetricName, tap.Number(*t.Activation))
	}
	return all + " (" + strings.Join(known, ", ") + ")"
}

// external is the one polled trigger, when there is exactly one.
func (x *explainer) external() Trigger {
	for _, t := range x.r.Triggers {
		if !t.Resource {
			return t
		}
	}
	return Trigger{}
}

func (x *explainer) hpaRange() string {
	if s := x.r.Spec; s != nil {
		return fmt.Sprintf("%d and %d", max(s.MinReplicaCount, 1), s.MaxReplicaCount)
	}
	return "max(minReplicaCount, 1) and maxReplicaCount"
}

func plural(n int32, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
