package tap

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ebb.dev/schemas/msg"
)

// Output is how messages are printed.
type Output string

const (
	Text Output = "text" // one line a person reads: 14:02:07 orders/consumer decision 1→20 hpa (...)
	JSON Output = "json" // the message itself, compact, one per line
)

// Printer turns a message off the bus into one line, without its newline.
type Printer struct {
	Output   Output
	Location *time.Location // default UTC
	Layout   string         // time layout; default 15:04:05
}

// Line formats data, received on subject. Data that is not a valid message still gets a line
// saying so, never silence.
func (p Printer) Line(subject string, data []byte) string {
	m, err := msg.Decode(data)
	if p.Output == JSON {
		if err != nil {
			b, _ := json.Marshal(struct {
				Subject string `json:"subject"`
				Error   string `json:"error"`
			}{subject, err.Error()})
			return string(b)
		}
		b, _ := msg.Marshal(m)
		return string(b)
	}
	if err != nil {
		return fmt.Sprintf("invalid message on %s: %v", subject, err)
	}
	return p.Text(m)
}

// Text is the line a person reads for m.
func (p Printer) Text(m msg.Message) string {
	var at time.Time
	var what string
	switch m := m.(type) {
	case msg.Reading:
		at, what = m.ObservedAt, "reading "+ReadingText(m)+" ("+m.Poller+")"
	case msg.Decision:
		at, what = m.DecidedAt, "decision "+DecisionText(m)
	case msg.Action:
		at, what = m.At, "action "+ActionText(m)
	}
	return p.Time(at) + " " + ObjectName(m.Ref()) + " " + what
}

// Time is t as the printer shows times.
func (p Printer) Time(t time.Time) string {
	loc, layout := p.Location, p.Layout
	if loc == nil {
		loc = time.UTC
	}
	if layout == "" {
		layout = time.TimeOnly
	}
	return t.In(loc).Format(layout)
}

// ObjectName is namespace/name for a ScaledObject and namespace/scaledjob/name for a ScaledJob.
func ObjectName(ref msg.ObjectRef) string {
	if ref.Kind == msg.ScaledJob {
		return ref.Namespace + "/scaledjob/" + ref.Name
	}
	return ref.Namespace + "/" + ref.Name
}

// ReadingText is metric=value/target and whether it is active, or the poll's error.
func ReadingText(r msg.Reading) string {
	if r.Error != "" {
		return r.Trigger.MetricName + " error: " + r.Error
	}
	state := "inactive"
	if r.Active {
		state = "active"
	}
	return r.Trigger.MetricName + "=" + Number(r.Value) + "/" + Number(r.Target.Value) + " " + state
}

// DecisionText is current→desired (or the Jobs to create), the reason and the inputs.
func DecisionText(d msg.Decision) string {
	var b strings.Builder
	if j := d.Jobs; j != nil {
		fmt.Fprintf(&b, "create %d jobs, %d running, %d pending", j.Create, j.Running, j.Pending)
	} else {
		fmt.Fprintf(&b, "%d→%d", d.CurrentReplicas, d.DesiredReplicas)
	}
	b.WriteString(" " + string(d.Reason))
	if len(d.Inputs) > 0 {
		inputs := make([]string, len(d.Inputs))
		for i, r := range d.Inputs {
			inputs[i] = r.Trigger.MetricName + "=" + Number(r.Value) + "/" + Number(r.Target.Value)
			if r.Error != "" {
				inputs[i] = r.Trigger.MetricName + " failing"
			}
		}
		b.WriteString(" (" + strings.Join(inputs, ", ") + ")")
	}
	return b.String()
}

// ActionText is the operation, its counts and how it ended.
func ActionText(a msg.Action) string {
	s := string(a.Operation)
	switch {
	case a.From != nil && a.To != nil:
		s += fmt.Sprintf(" %d→%d", *a.From, *a.To)
	case a.To != nil:
		s += fmt.Sprintf(" →%d", *a.To)
	case a.From != nil:
		s += fmt.Sprintf(" %d→", *a.From)
	}
	if a.Result == msg.ResultFailed {
		return s + " failed: " + a.Error
	}
	return s + " " + string(a.Result)
}

// Number prints a value the way a person writes it: 100, 0.5, 1500000.
func Number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
