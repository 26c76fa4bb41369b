package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ebb.dev/services/decider/decide"
	"ebb.dev/services/decider/hpa"
)

// WriteJSONL writes one event per line.
func (r *Run) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, e := range r.Events {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("write event at %s: %w", e.At, err)
		}
	}
	return nil
}

// WriteTable writes the run as a table with one row per instant at which something changed
// (a reading, the activity, ebb's decision, the HPA's or the replica count), then a summary.
// The ebb and hpa columns are blank at instants where they did not act.
func (r *Run) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(r.header(), "\t"))
	var state, printed []string
	for i := 0; i < len(r.Events); {
		j := i + 1
		for j < len(r.Events) && r.Events[j].At == r.Events[i].At {
			j++
		}
		instant := r.Events[i:j]
		for _, e := range instant {
			state = r.cells(e, state)
		}
		if !slices.Equal(state[1:], printed) || j == len(r.Events) {
			fmt.Fprintln(tw, strings.Join(r.display(instant, state), "\t"))
			printed = slices.Clone(state[1:])
		}
		i = j
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	_, err := fmt.Fprint(w, r.summary())
	return err
}

// display is the row shown for an instant: the state, with the ebb and hpa columns saying only
// what acted at this instant (and whether ebb wrote the count itself).
func (r *Run) display(instant []Event, state []string) []string {
	row := slices.Clone(state)
	if r.Kind == "ScaledJob" {
		return row
	}
	n := len(r.Triggers)
	row[n+2], row[n+3] = "", ""
	for _, e := range instant {
		if e.Decision != nil {
			row[n+2] = ebbCell(e.Decision, true)
		}
		if e.HPA != nil {
			row[n+3] = state[n+3]
		}
	}
	return row
}

func (r *Run) header() []string {
	h := append([]string{"time"}, r.Triggers...)
	if r.Kind == "ScaledJob" {
		return append(h, "active", "ebb", "create", "running", "pending")
	}
	return append(h, "active", "ebb", "hpa", "replicas")
}

// cells folds one event into the row state: columns an event does not speak to keep their value.
func (r *Run) cells(e Event, prev []string) []string {
	row := make([]string, len(r.header()))
	copy(row, prev)
	row[0] = e.At.String()
	n := len(r.Triggers)
	for i, rd := range e.Readings {
		row[1+i] = reading(rd)
	}
	if d := e.Decision; d != nil {
		row[n+1] = yesNo(d.Active)
		row[n+2] = ebbCell(d, false) // a write shows once; holding the count after it is no change
	}
	if j := e.Jobs; j != nil {
		row[n+2] = jobCell(e.Decision.Reason, j)
		row[n+3], row[n+4], row[n+5] = itoa(j.Create), itoa(j.Running), itoa(j.Pending)
		return row
	}
	if e.HPA != nil {
		row[n+3] = hpaCell(e.HPA, e.Replicas)
	}
	row[n+4] = r.replicasCell(e)
	return row
}

func reading(rd Reading) string {
	if rd.Value == nil {
		return fmt.Sprintf("error ×%d", rd.Failures)
	}
	return strconv.FormatFloat(*rd.Value, 'g', -1, 64)
}

// ebbCell says what ebb did: "set" when it wrote the count itself, "target" for the count
// the HPA will reach from what ebb serves.
func ebbCell(d *Decision, showWrite bool) string {
	switch {
	case d.Reason == decide.ReasonCooldown && d.Next != nil:
		return "cooldown until " + d.Next.String()
	case d.Scaled && showWrite:
		return fmt.Sprintf("%s: set %d", d.Reason, d.Desired)
	case d.Reason == decide.ReasonFailing:
		return "failing: hold"
	case d.Reason == decide.ReasonHPA, d.Reason == decide.ReasonFallback,
		d.Reason == decide.ReasonMin, d.Reason == decide.ReasonMax:
		return fmt.Sprintf("%s: target %d", d.Reason, d.Desired)
	}
	return string(d.Reason)
}

func jobCell(reason decide.Reason, j *Jobs) string {
	if reason != decide.ReasonJobs {
		return string(reason)
	}
	return fmt.Sprintf("scaleTo %d, maxScale %d, effectiveMax %d", j.ScaleTo, j.MaxScale, j.EffectiveMax)
}

func hpaCell(h *HPASync, replicas int32) string {
	switch {
	case h.Rescaled && h.Condition == hpa.DesiredWithinRange:
		return fmt.Sprintf("→ %d", replicas)
	case h.Rescaled:
		return fmt.Sprintf("wants %d, → %d (%s)", h.Proposal, replicas, h.Condition)
	case h.Condition == hpa.ScalingDisabled:
		return "idle at 0"
	case h.Condition == hpa.FailedGetExternalMetric:
		return "no metric, holds"
	case h.Condition == hpa.DesiredWithinRange:
		return "steady"
	}
	return fmt.Sprintf("wants %d, holds (%s)", h.Proposal, h.Condition)
}

func (r *Run) replicasCell(e Event) string {
	if r.PodStart > 0 {
		return fmt.Sprintf("%d (%d ready)", e.Replicas, e.Ready)
	}
	return itoa(e.Replicas)
}

// summary states the peak and how long after the first active poll it came, how the run
// ended, and who wrote replica counts how often.
func (r *Run) summary() string {
	if len(r.Events) == 0 {
		return ""
	}
	var peak int32
	var peakAt, activeAt Offset = 0, -1
	var ebbWrites, hpaWrites, created int
	for _, e := range r.Events {
		if e.Replicas > peak {
			peak, peakAt = e.Replicas, e.At
		}
		if d := e.Decision; d != nil && d.Active && activeAt < 0 {
			activeAt = e.At
		}
		if d := e.Decision; d != nil && d.Scaled {
			ebbWrites++
		}
		if e.HPA != nil && e.HPA.Rescaled {
			hpaWrites++
		}
		if e.Jobs != nil {
			created += int(e.Jobs.Create)
		}
	}
	var b strings.Builder
	unit := "replicas"
	if r.Kind == "ScaledJob" {
		unit = "running Jobs"
	}
	fmt.Fprintf(&b, "\npeak %d %s at %s", peak, unit, peakAt)
	if activeAt >= 0 && peakAt >= activeAt && peak > 0 {
		fmt.Fprintf(&b, ", %s after the first active poll", time.Duration(peakAt-activeAt))
	}
	last := r.Events[len(r.Events)-1]
	fmt.Fprintf(&b, " · %d at %s", last.Replicas, last.At)
	if r.Kind == "ScaledJob" {
		fmt.Fprintf(&b, " · %d Jobs created\n", created)
	} else {
		fmt.Fprintf(&b, " · ebb set the count %d×, the HPA %d×\n", ebbWrites, hpaWrites)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func itoa[T int32 | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
