package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"ebb.dev/bus/tap"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// Write prints r as p.Output says: text for a person, or the report as one JSON document.
// An empty p.Layout shows the time of day, with the date when the report reaches back
// before today.
func Write(w io.Writer, r Report, p tap.Printer) error {
	if p.Output == tap.JSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("explain: encode report: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if p.Layout == "" {
		loc := p.Location
		if loc == nil {
			loc = time.UTC
		}
		p.Layout = tap.Layout(r.oldest(), r.At, loc)
	}
	_, err := io.WriteString(w, Text(r, p))
	return err
}

// Text is the report as a person reads it: one section a line, labels in the first column.
func Text(r Report, p tap.Printer) string {
	t := &text{p: p, at: r.At}
	kind := string(r.Object.Kind)
	if r.Object.Generation > 0 {
		kind += fmt.Sprintf(", generation %d", r.Object.Generation)
	}
	t.line("", fmt.Sprintf("%s/%s (%s) at %s", r.Object.Namespace, r.Object.Name, kind, p.Time(r.At)))
	t.line("state", state(r.Decision))
	if r.Status != nil {
		t.line("status", status(*r.Status, p))
	}
	if r.Spec != nil {
		t.line("spec", spec(*r.Spec, r.Object.Kind))
	}
	t.section("triggers", len(r.Triggers))
	for _, tr := range r.Triggers {
		t.item(t.trigger(tr))
	}
	if d := r.Decision; d != nil {
		t.line("decision", tap.DecisionText(*d)+", decided "+t.when(d.DecidedAt)+" by "+d.Decider)
		if served := served(d.Metrics); served != "" {
			t.line("", "serves the HPA "+served)
		}
	}
	t.section("actions", len(r.Actions))
	for _, a := range r.Actions {
		t.item(t.action(a))
	}
	for i, c := range r.Next {
		t.line(label(i, "next"), t.change(c))
	}
	for i, w := range r.Warnings {
		t.line(label(i, "warning"), w)
	}
	for i, u := range r.Unknown {
		t.line(label(i, "unknown"), u)
	}
	return t.b.String()
}

// text builds the lines of a report.
type text struct {
	b  strings.Builder
	p  tap.Printer
	at time.Time
}

const labelWidth = 9

func (t *text) line(label, s string) {
	if label == "" && t.b.Len() == 0 {
		t.b.WriteString(s + "\n")
		return
	}
	t.b.WriteString(strings.TrimRight(fmt.Sprintf("%-*s %s", labelWidth, label, s), " ") + "\n")
}

// section starts a list; an empty one says none.
func (t *text) section(label string, n int) {
	if n == 0 {
		t.line(label, "none")
		return
	}
	t.line(label, "")
}

func (t *text) item(s string) { t.b.WriteString("  " + s + "\n") }

func label(i int, s string) string {
	if i == 0 {
		return s
	}
	return ""
}

// when is a time with how long ago it was.
func (t *text) when(at time.Time) string {
	s := t.p.Time(at)
	if ago := t.at.Sub(at).Round(time.Second); ago > 0 {
		s += " (" + ago.String() + " ago)"
	}
	return s
}

func state(d *msg.Decision) string {
	if d == nil {
		return "unknown: no decision on the bus"
	}
	active := "inactive"
	if d.Active {
		active = "active"
	}
	if j := d.Jobs; j != nil {
		return fmt.Sprintf("%s, %d %s running, %d pending; creating %d (%s)", active, j.Running, plural(j.Running, "Job"), j.Pending, j.Create, d.Reason)
	}
	s := fmt.Sprintf("%s, %d %s", active, d.CurrentReplicas, plural(d.CurrentReplicas, "replica"))
	if d.DesiredReplicas != d.CurrentReplicas {
		s += fmt.Sprintf(", going to %d", d.DesiredReplicas)
	}
	return s + " (" + string(d.Reason) + ")"
}

func status(st Status, p tap.Printer) string {
	var parts []string
	for _, typ := range []v1alpha1.ConditionType{v1alpha1.ConditionReady, v1alpha1.ConditionActive, v1alpha1.ConditionFallback, v1alpha1.ConditionPaused} {
		if c, ok := st.Conditions.Get(typ); ok {
			parts = append(parts, string(typ)+" "+string(c.Status))
		}
	}
	s := strings.Join(parts, ", ")
	if len(parts) == 0 {
		s = "no conditions yet"
	}
	if st.LastActiveTime != nil {
		s += "; last active " + p.Time(*st.LastActiveTime)
	}
	if st.HPAName != "" {
		s += "; HPA " + st.HPAName
	}
	return s
}

func spec(s Spec, kind msg.Kind) string {
	var parts []string
	if kind == msg.ScaledJob {
		parts = append(parts, fmt.Sprintf("Jobs %d–%d", s.MinReplicaCount, s.MaxReplicaCount))
	} else {
		parts = append(parts, fmt.Sprintf("replicas %d–%d", s.MinReplicaCount, s.MaxReplicaCount))
		if s.IdleReplicaCount != nil {
			parts = append(parts, fmt.Sprintf("idle %d", *s.IdleReplicaCount))
		}
		parts = append(parts, fmt.Sprintf("cooldown %ds", s.CooldownPeriod))
		if s.InitialCooldownPeriod > 0 {
			parts = append(parts, fmt.Sprintf("initial cooldown %ds", s.InitialCooldownPeriod))
		}
	}
	parts = append(parts, fmt.Sprintf("polling %ds", s.PollingInterval))
	if f := s.Fallback; f != nil {
		behavior := f.Behavior
		if behavior == "" {
			behavior = v1alpha1.DefaultFallbackBehavior
		}
		parts = append(parts, fmt.Sprintf("fallback %d replicas after %d failures (%s)", f.Replicas, f.FailureThreshold, behavior))
	} else if kind != msg.ScaledJob {
		parts = append(parts, "no fallback")
	}
	if s.ActivationTarget != nil {
		parts = append(parts, "scalingModifiers activationTarget "+*s.ActivationTarget)
	}
	parts = append(parts, s.Annotations...)
	return strings.Join(parts, ", ")
}

func (t *text) trigger(tr Trigger) string {
	s := fmt.Sprintf("%d %s", tr.Index, tr.Type)
	if tr.Type == "" {
		s = fmt.Sprintf("%d", tr.Index)
	}
	switch {
	case tr.Resource:
		return s + " " + tr.MetricName + ": a resource metric the HPA reads from the metrics server; never polled"
	case tr.Reading == nil:
		return s + " " + tr.MetricName + ": no reading yet"
	}
	s += " " + tap.ReadingText(*tr.Reading)
	if tr.Activation != nil {
		s += ", activation " + tap.Number(*tr.Activation)
	}
	if tr.Failures > 0 {
		s += fmt.Sprintf(", %d failed %s in a row", tr.Failures, plural(tr.Failures, "poll"))
	}
	if tr.Fallback {
		s += ", in fallback"
	}
	if tr.Stale {
		s += ", stale"
	}
	return s + ", read " + t.when(tr.Reading.ObservedAt) + " by " + tr.Reading.Poller
}

func (t *text) action(a msg.Action) string {
	s := t.p.Time(a.At) + " " + tap.ActionText(a)
	if d := a.Decision; d != nil {
		s += " (decision " + string(d.Reason) + " of " + t.p.Time(d.DecidedAt) + ")"
	}
	return s
}

func (t *text) change(c Change) string {
	s := c.Do
	if !c.At.IsZero() {
		s += " at " + t.p.Time(c.At)
	}
	if c.Unless != "" {
		s += " " + c.Unless
	}
	return s
}

// served lists the values the decision serves the HPA, where they differ from the readings:
// fallback values, errors and the composite metric.
func served(ms []msg.MetricValue) string {
	var parts []string
	plain := true
	for _, m := range ms {
		switch {
		case m.Error != "":
			parts, plain = append(parts, m.Name+" error: "+m.Error), false
		case m.Fallback:
			parts, plain = append(parts, m.Name+"="+tap.Number(m.Value)+" (fallback)"), false
		default:
			parts = append(parts, m.Name+"="+tap.Number(m.Value))
		}
		plain = plain && m.Name != v1alpha1.CompositeMetricName
	}
	if plain {
		return ""
	}
	return strings.Join(parts, ", ")
}

// oldest is the earliest time the report shows.
func (r Report) oldest() time.Time {
	oldest := r.At
	see := func(t time.Time) {
		if !t.IsZero() && t.Before(oldest) {
			oldest = t
		}
	}
	for _, tr := range r.Triggers {
		if tr.Reading != nil {
			see(tr.Reading.ObservedAt)
		}
	}
	if r.Decision != nil {
		see(r.Decision.DecidedAt)
	}
	for _, a := range r.Actions {
		see(a.At)
	}
	if r.Status != nil && r.Status.LastActiveTime != nil {
		see(*r.Status.LastActiveTime)
	}
	return oldest
}
