package explain

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// Defaults of Config.
const (
	DefaultActions      = 5
	DefaultActionsSince = time.Hour
)

// Config says which object to explain and how much of its history to read.
type Config struct {
	Object msg.ObjectRef // namespace, kind and name; the rest is ignored
	// Actions is how many of the last actions to show; 0 means DefaultActions.
	Actions int
	// ActionsSince is how far back actions are looked for; 0 means DefaultActionsSince. The
	// last action is shown however old it is.
	ActionsSince time.Duration
}

// ParseObject reads <namespace>/<name> of the given kind.
func ParseObject(s string, kind msg.Kind) (msg.ObjectRef, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return msg.ObjectRef{}, fmt.Errorf("object %q: want <namespace>/<name>", s)
	}
	return msg.ObjectRef{Namespace: ns, Kind: kind, Name: name}, nil
}

// Gather reads what the bus holds about cfg.Object at now. A stored message that cannot be
// decoded is named in Evidence.Problems, not returned as an error; an error means the bus
// could not be read.
func Gather(ctx context.Context, c *bus.Conn, cfg Config, now time.Time) (Evidence, error) {
	ref := msg.ObjectRef{Namespace: cfg.Object.Namespace, Kind: cfg.Object.Kind, Name: cfg.Object.Name}
	e := Evidence{Object: ref}
	readings, err := c.LastReadings(ctx, msg.Filter{Namespace: ref.Namespace, Kind: ref.Kind, Name: ref.Name})
	if err != nil && !decodeOnly(err) {
		return e, fmt.Errorf("explain %s: %w", msg.ObjectKey(ref), err)
	}
	if err != nil {
		e.Problems = append(e.Problems, err.Error())
	}
	slices.SortFunc(readings, func(a, b msg.Reading) int { return cmp.Compare(a.Trigger.Index, b.Trigger.Index) })
	e.Readings = readings

	p := c.Prefix()
	last := bus.Replay{Subjects: []string{p.Decision(ref)}, LastPerSubject: true}
	err = c.ReplayAudit(ctx, last, func(m bus.AuditMessage) error {
		d, err := msg.DecodeAs[msg.Decision](m.Data)
		if err != nil {
			e.Problems = append(e.Problems, fmt.Sprintf("stored decision %d: %v", m.Seq, err))
			return nil
		}
		e.Decision = &d
		return nil
	})
	if err != nil {
		return e, fmt.Errorf("explain %s: last decision: %w", msg.ObjectKey(ref), err)
	}
	if e.Actions, err = lastActions(ctx, c, p.Action(ref), cfg, now, &e.Problems); err != nil {
		return e, fmt.Errorf("explain %s: last actions: %w", msg.ObjectKey(ref), err)
	}
	return e, nil
}

// lastActions returns up to cfg.Actions of the actions stored since cfg.ActionsSince before
// now, oldest first, or the last action alone when none is that recent.
func lastActions(ctx context.Context, c *bus.Conn, subject string, cfg Config, now time.Time, problems *[]string) ([]msg.Action, error) {
	n, since := cfg.Actions, cfg.ActionsSince
	if n <= 0 {
		n = DefaultActions
	}
	if since <= 0 {
		since = DefaultActionsSince
	}
	var out []msg.Action
	collect := func(m bus.AuditMessage) error {
		a, err := msg.DecodeAs[msg.Action](m.Data)
		if err != nil {
			*problems = append(*problems, fmt.Sprintf("stored action %d: %v", m.Seq, err))
			return nil
		}
		out = append(out, a)
		if len(out) > n {
			out = out[1:]
		}
		return nil
	}
	if err := c.ReplayAudit(ctx, bus.Replay{Subjects: []string{subject}, Since: now.Add(-since)}, collect); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		return out, nil
	}
	err := c.ReplayAudit(ctx, bus.Replay{Subjects: []string{subject}, LastPerSubject: true}, collect)
	return out, err
}

// decodeOnly reports whether err is LastReadings' list of stored values that do not decode
// (it returns the valid readings beside it), not a failure to read the bucket.
func decodeOnly(err error) bool {
	_, joined := err.(interface{ Unwrap() []error })
	return joined
}
