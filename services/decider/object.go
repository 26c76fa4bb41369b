package decider

import (
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/decider/crd"
	"ebb.dev/services/decider/decide"
)

// spec is one generation of a ScaledObject or ScaledJob, compiled.
type spec struct {
	ref      msg.ObjectRef
	interval time.Duration
	types    []string // spec.triggers[i].type: a reading counts only for a trigger of its type
	so       *decide.Policy
	target   v1alpha1.ScaleTarget
	sj       *decide.JobPolicy
	pending  []string // scalingStrategy.pendingPodConditions
	err      error    // the spec cannot be decided on; nil otherwise
}

// compile turns a ScaledObject or ScaledJob into a spec; a spec that does not compile is
// returned with err set, so the object is known but not decided.
func compile(obj client.Object, reg *trigger.Registry) spec {
	s := spec{ref: msg.ObjectRef{Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID()), Generation: obj.GetGeneration()}}
	switch o := obj.(type) {
	case *v1alpha1.ScaledObject:
		s.ref.Kind, s.interval = msg.ScaledObject, crd.PollingInterval(o.Spec.PollingInterval)
		for _, t := range o.Spec.Triggers {
			s.types = append(s.types, t.Type)
		}
		if o.Spec.ScaleTargetRef != nil {
			s.target = *o.Spec.ScaleTargetRef
		}
		ds, err := crd.ScaledObject(o, reg, crd.Unresolved)
		if err == nil {
			s.so, err = decide.Compile(ds)
		}
		s.err = err
	case *v1alpha1.ScaledJob:
		s.ref.Kind, s.interval = msg.ScaledJob, crd.PollingInterval(o.Spec.PollingInterval)
		for _, t := range o.Spec.Triggers {
			s.types = append(s.types, t.Type)
		}
		s.pending = o.Spec.ScalingStrategy.PendingPodConditions
		js, err := crd.ScaledJob(o, reg, crd.Unresolved)
		if err == nil {
			s.sj, err = decide.CompileJob(js)
		}
		s.err = err
	default:
		s.err = fmt.Errorf("%T is neither a ScaledObject nor a ScaledJob", obj)
	}
	if s.interval <= 0 {
		s.interval = time.Duration(v1alpha1.DefaultPollingInterval) * time.Second
	}
	return s
}

// trig is what the decider knows of one trigger: its latest reading and how many polls in
// a row failed up to it.
type trig struct {
	reading  *msg.Reading
	failures int32
}

// object is one ScaledObject or ScaledJob as a worker keeps it.
type object struct {
	key      string    // msg.ObjectKey: the partition key and the state key
	spec     *spec     // nil until the informer delivers it
	triggers []trig    // by trigger index, also before the spec is known
	rec      record    // what survives a restart, as last saved or loaded
	loaded   bool      // rec was read from the bucket since this replica took the object
	seen     time.Time // when this replica first saw the spec
	next     time.Time // when the worker decides it again without a new input; zero: never
	outcome  string    // of the last decision published, for the log
	owned    bool      // this replica held o's partition at its last decision (a gauge counts these)
	pending  time.Time // observedAt of the oldest live reading no decision has been made on yet
	// scaleUp is the fast path's model of the spec's scale-up rules, with the steps of this
	// replica's decisions since it took the object or the spec last changed; nil until the
	// first decision. Not saved: a replica that takes over starts it afresh, which waits out
	// a scale-up stabilization window as a new HPA would, but forgets the steps taken in the
	// policies' current period.
	scaleUp *decide.ScaleUp
}

// observe counts one reading. It reports false for a reading no newer than the last one of
// its trigger: replays of the readings bucket and redeliveries count once.
func (o *object) observe(r msg.Reading) bool {
	i := r.Trigger.Index
	for len(o.triggers) <= i {
		o.triggers = append(o.triggers, trig{})
	}
	t := &o.triggers[i]
	if t.reading != nil && !r.ObservedAt.After(t.reading.ObservedAt) {
		return false
	}
	if t.reading != nil && t.reading.Trigger.Type != r.Trigger.Type {
		t.failures = 0 // another trigger now sits at this index
	}
	if r.Error != "" {
		t.failures++
	} else {
		t.failures = 0
	}
	t.reading = &r
	return true
}

// merge takes the failure counts of a saved record where it saw the same or a later reading
// than this replica did: the previous owner counted them.
func (o *object) merge(rec record) {
	for i, saved := range rec.Triggers {
		if i >= len(o.triggers) {
			break
		}
		t := &o.triggers[i]
		if t.reading == nil || !saved.ObservedAt.Before(t.reading.ObservedAt) {
			t.failures = saved.Failures
		}
	}
}

// staleAfter is how many polling intervals a trigger may go unread before its poller counts
// as gone. From then on every poll missed is a failed poll, so fallback engages as for a
// source that is down, and nothing scales on a value nobody has read for minutes.
const staleAfter = 3

// inputs are the readings the decision uses at now, one per trigger, with the decide view of each.
func (o *object) inputs(now time.Time) ([]decide.Reading, []msg.Reading) {
	s := o.spec
	out := make([]decide.Reading, len(s.types))
	var used []msg.Reading
	for i, typ := range s.types {
		r := o.reading(i)
		if r == nil || r.Trigger.Type != typ || (s.ref.UID != "" && r.Object.UID != "" && r.Object.UID != s.ref.UID) {
			out[i] = decide.Reading{Missing: true}
			continue
		}
		used = append(used, *r)
		switch f := o.triggers[i].failures; {
		case r.Error != "":
			out[i] = decide.Reading{Failures: max(f, 1)}
		case o.stale(r, now):
			out[i] = decide.Reading{Failures: int32(now.Sub(r.ObservedAt) / s.interval)}
		default:
			out[i] = decide.Reading{Value: r.Value, At: r.ObservedAt}
		}
	}
	return out, used
}

// stale reports whether r is older than staleAfter polling intervals at now.
func (o *object) stale(r *msg.Reading, now time.Time) bool {
	return o.spec.interval > 0 && now.Sub(r.ObservedAt) > staleAfter*o.spec.interval
}

// unread reports whether a polled trigger of the spec has no reading at all yet.
func (o *object) unread() bool {
	in, _ := o.inputs(time.Time{})
	for _, r := range in {
		if r.Missing {
			return true
		}
	}
	return false
}

func (o *object) reading(i int) *msg.Reading {
	if i < len(o.triggers) {
		return o.triggers[i].reading
	}
	return nil
}

// record is an object's state in the decider bucket: what a replica that takes the object
// over, or restarts, needs to go on without flapping or forgetting a cooldown.
type record struct {
	UID        string          `json:"uid"`
	LastActive time.Time       `json:"lastActive,omitzero"`
	Triggers   []triggerRecord `json:"triggers,omitempty"`
	// Published is when the last decision was published, and Digest what it said: the next
	// replica publishes again only when the outcome changes or an interval has passed.
	Published time.Time `json:"published,omitzero"`
	Digest    uint64    `json:"digest,omitempty"`
}

type triggerRecord struct {
	ObservedAt time.Time `json:"observedAt,omitzero"`
	Failures   int32     `json:"failures,omitempty"`
}

// snapshot is the record of the object as it stands.
func (o *object) snapshot(lastActive, published time.Time, digest uint64) record {
	rec := record{UID: o.spec.ref.UID, LastActive: lastActive, Published: published, Digest: digest}
	for _, t := range o.triggers {
		var tr triggerRecord
		if t.reading != nil {
			tr = triggerRecord{ObservedAt: t.reading.ObservedAt, Failures: t.failures}
		}
		rec.Triggers = append(rec.Triggers, tr)
	}
	return rec
}

func (r record) equal(o record) bool {
	if r.UID != o.UID || !r.LastActive.Equal(o.LastActive) || !r.Published.Equal(o.Published) ||
		r.Digest != o.Digest || len(r.Triggers) != len(o.Triggers) {
		return false
	}
	for i := range r.Triggers {
		if !r.Triggers[i].ObservedAt.Equal(o.Triggers[i].ObservedAt) || r.Triggers[i].Failures != o.Triggers[i].Failures {
			return false
		}
	}
	return true
}

// digest hashes what a decision says, leaving out when it was made and the readings'
// timestamps: a decision whose digest is unchanged need not be published before the next
// interval.
func digest(d msg.Decision) uint64 {
	h := fnv.New64a()
	w := func(parts ...any) { _, _ = fmt.Fprintln(h, parts...) }
	w(d.Object.UID, d.Object.Generation, d.DesiredReplicas, d.Active, d.Reason, d.CurrentReplicas)
	for _, m := range d.Metrics {
		w(m.Name, math.Float64bits(m.Value), m.Error, m.Fallback, m.Failures)
	}
	for _, in := range d.Inputs {
		w(in.Trigger.Index, math.Float64bits(in.Value), in.Error)
	}
	if j := d.Jobs; j != nil {
		w(j.Create, j.Running, j.Pending)
	}
	return max(h.Sum64(), 1)
}
