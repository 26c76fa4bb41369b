package msg

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Message is a Reading, Decision or Action; no other type implements it.
type Message interface {
	SchemaID() string // the value of the message's schema field
	Ref() ObjectRef   // the object the message is about
	Validate() error
	isMessage()
}

var (
	_ Message = Reading{}
	_ Message = Decision{}
	_ Message = Action{}
)

func (Reading) SchemaID() string  { return ReadingSchema }
func (Decision) SchemaID() string { return DecisionSchema }
func (Action) SchemaID() string   { return ActionSchema }

func (r Reading) Ref() ObjectRef  { return r.Object }
func (d Decision) Ref() ObjectRef { return d.Object }
func (a Action) Ref() ObjectRef   { return a.Object }

func (Reading) isMessage()  {}
func (Decision) isMessage() {}
func (Action) isMessage()   {}

// Marshal fills in m's schema field, validates m and encodes it as JSON.
func Marshal(m Message) ([]byte, error) {
	switch v := m.(type) {
	case Reading:
		v.Schema = ReadingSchema
		m = v
	case Decision:
		v.Schema = DecisionSchema
		v.Inputs = append([]Reading{}, v.Inputs...) // never null on the wire; leaves the caller's slice alone
		for i := range v.Inputs {
			v.Inputs[i].Schema = ReadingSchema
		}
		m = v
	case Action:
		v.Schema = ActionSchema
		m = v
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// Decode reads any message by its schema field and validates it.
func Decode(data []byte) (Message, error) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	switch head.Schema {
	case ReadingSchema:
		return decode[Reading](data)
	case DecisionSchema:
		return decode[Decision](data)
	case ActionSchema:
		return decode[Action](data)
	}
	return nil, fmt.Errorf("decode message: unknown schema %q", head.Schema)
}

// DecodeAs decodes a message that must be of type M.
func DecodeAs[M Message](data []byte) (M, error) {
	var zero M
	m, err := Decode(data)
	if err != nil {
		return zero, err
	}
	got, ok := m.(M)
	if !ok {
		return zero, fmt.Errorf("decode message: got schema %s, want %s", m.SchemaID(), zero.SchemaID())
	}
	return got, nil
}

func decode[M Message](data []byte) (Message, error) {
	var m M
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", m.SchemaID(), err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate reports every field of r that a consumer could not act on.
func (r Reading) Validate() error {
	var c checker
	r.check(&c, "")
	return c.err("reading")
}

// Validate reports every field of d that a consumer could not act on.
func (d Decision) Validate() error {
	var c checker
	c.schema(d.Schema, DecisionSchema)
	d.Object.check(&c, "object.")
	c.that(d.DesiredReplicas >= 0, "desiredReplicas", "must not be negative")
	c.that(d.CurrentReplicas >= 0, "currentReplicas", "must not be negative")
	c.that(slices.Contains(Reasons(), d.Reason), "reason", fmt.Sprintf("unknown reason %q", d.Reason))
	for i, in := range d.Inputs {
		in.check(&c, fmt.Sprintf("inputs[%d].", i))
	}
	switch {
	case d.Object.Kind == ScaledJob && d.Jobs == nil:
		c.add("jobs", "is required for a ScaledJob")
	case d.Object.Kind != ScaledJob && d.Jobs != nil:
		c.add("jobs", "is only for a ScaledJob")
	case d.Jobs != nil:
		c.that(d.Jobs.Create >= 0 && d.Jobs.Running >= 0 && d.Jobs.Pending >= 0, "jobs", "counts must not be negative")
	}
	c.time(d.DecidedAt, "decidedAt")
	c.that(d.Decider != "", "decider", "must not be empty")
	return c.err("decision")
}

// Validate reports every field of a that a consumer could not act on.
func (a Action) Validate() error {
	var c checker
	c.schema(a.Schema, ActionSchema)
	a.Object.check(&c, "object.")
	if d := a.Decision; d != nil {
		c.that(d.DesiredReplicas >= 0, "decision.desiredReplicas", "must not be negative")
		c.that(slices.Contains(Reasons(), d.Reason), "decision.reason", fmt.Sprintf("unknown reason %q", d.Reason))
		c.time(d.DecidedAt, "decision.decidedAt")
		c.that(d.Decider != "", "decision.decider", "must not be empty")
	}
	c.that(slices.Contains(Operations(), a.Operation), "operation", fmt.Sprintf("unknown operation %q", a.Operation))
	c.that(a.From == nil || *a.From >= 0, "from", "must not be negative")
	c.that(a.To == nil || *a.To >= 0, "to", "must not be negative")
	switch a.Result {
	case ResultOK:
		c.that(a.Error == "", "error", "must be empty when result is ok")
	case ResultFailed:
		c.that(a.Error != "", "error", "must say what failed when result is failed")
	default:
		c.add("result", fmt.Sprintf("unknown result %q", a.Result))
	}
	c.time(a.At, "at")
	return c.err("action")
}

func (r Reading) check(c *checker, path string) {
	c.schema(r.Schema, ReadingSchema)
	r.Object.check(c, path+"object.")
	c.that(r.Trigger.Index >= 0, path+"trigger.index", "must not be negative")
	c.that(r.Trigger.Type != "", path+"trigger.type", "must not be empty")
	c.that(r.Trigger.MetricName != "", path+"trigger.metricName", "must not be empty")
	c.that(finite(r.Value), path+"value", "must be a finite number")
	switch r.Target.Type {
	case AverageValue, Value, Utilization:
	default:
		c.add(path+"target.type", fmt.Sprintf("unknown metric type %q", r.Target.Type))
	}
	c.that(finite(r.Target.Value) && r.Target.Value >= 0, path+"target.value", "must be a finite, non-negative number")
	c.time(r.ObservedAt, path+"observedAt")
	c.that(r.Poller != "", path+"poller", "must not be empty")
}

func (o ObjectRef) check(c *checker, path string) {
	c.that(o.Namespace != "", path+"namespace", "must not be empty")
	c.that(o.Name != "", path+"name", "must not be empty")
	c.that(o.Kind == ScaledObject || o.Kind == ScaledJob, path+"kind", fmt.Sprintf("want ScaledObject or ScaledJob, got %q", o.Kind))
	c.that(o.Generation >= 0, path+"generation", "must not be negative")
}

// checker collects field errors so one Validate call reports all of them.
type checker struct{ errs []string }

func (c *checker) add(field, problem string) {
	c.errs = append(c.errs, field+": "+problem)
}

func (c *checker) that(ok bool, field, problem string) {
	if !ok {
		c.add(field, problem)
	}
}

func (c *checker) schema(got, want string) {
	// Go values may leave the schema empty; Marshal fills it in.
	c.that(got == "" || got == want, "schema", fmt.Sprintf("want %q, got %q", want, got))
}

func (c *checker) time(t time.Time, field string) {
	c.that(!t.IsZero(), field, "must be set")
}

func (c *checker) err(what string) error {
	if len(c.errs) == 0 {
		return nil
	}
	return errors.New("invalid " + what + ": " + strings.Join(c.errs, "; "))
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
