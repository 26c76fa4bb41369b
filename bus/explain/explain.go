package explain

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
)

// Evidence is everything an explanation is made from.
type Evidence struct {
	Object   msg.ObjectRef // namespace, kind and name
	Readings []msg.Reading // the last of each trigger, in trigger order
	Decision *msg.Decision // the last one stored; nil when there is none
	Actions  []msg.Action  // the last ones, oldest first
	Problems []string      // stored messages that could not be read
	Cluster  Cluster
}

// Cluster is what the cluster said of the object, when it was asked.
type Cluster struct {
	Read bool // false: the cluster was not asked, its spec and status are unknown
	// The object as read; both nil when Read and the cluster has no such object.
	ScaledObject *v1alpha1.ScaledObject
	ScaledJob    *v1alpha1.ScaledJob
}

// Report is an explanation: the object's state, its triggers, the last decision and
// actions, and what changes it next.
type Report struct {
	Object   msg.ObjectRef `json:"object"`
	At       time.Time     `json:"at"` // when the report was made
	Spec     *Spec         `json:"spec,omitempty"`
	Status   *Status       `json:"status,omitempty"`
	Triggers []Trigger     `json:"triggers"`
	Decision *msg.Decision `json:"decision,omitempty"`
	Actions  []msg.Action  `json:"actions"`
	Next     []Change      `json:"next"`
	Warnings []string      `json:"warnings,omitempty"`
	Unknown  []string      `json:"unknown,omitempty"` // what could not be known, and why
}

// Spec is what the object's spec says about scaling, defaults applied.
type Spec struct {
	Generation            int64              `json:"generation"`
	PollingInterval       int32              `json:"pollingInterval"`
	CooldownPeriod        int32              `json:"cooldownPeriod"`        // ScaledObject only
	InitialCooldownPeriod int32              `json:"initialCooldownPeriod"` // ScaledObject only
	MinReplicaCount       int32              `json:"minReplicaCount"`
	MaxReplicaCount       int32              `json:"maxReplicaCount"`
	IdleReplicaCount      *int32             `json:"idleReplicaCount,omitempty"`
	Fallback              *v1alpha1.Fallback `json:"fallback,omitempty"`
	// ActivationTarget is the scalingModifiers activationTarget, when a formula is used.
	ActivationTarget *string `json:"activationTarget,omitempty"`
	// Annotations are the pause and force-activation annotations set, as name=value.
	Annotations     []string `json:"annotations,omitempty"`
	Paused          bool     `json:"paused,omitempty"`
	ForceActivation bool     `json:"forceActivation,omitempty"`
}

// Status is the object's status as the actuator last wrote it.
type Status struct {
	LastActiveTime *time.Time          `json:"lastActiveTime,omitempty"`
	Conditions     v1alpha1.Conditions `json:"conditions,omitempty"`
	HPAName        string              `json:"hpaName,omitempty"`
}

// Trigger is one trigger as the report sees it.
type Trigger struct {
	Index      int          `json:"index"`
	Type       string       `json:"type"`
	MetricName string       `json:"metricName,omitempty"`
	Reading    *msg.Reading `json:"reading,omitempty"` // nil: never read (or a cpu/memory trigger)
	// Activation is the threshold its reading must exceed, when the spec was read.
	Activation *float64 `json:"activation,omitempty"`
	Resource   bool     `json:"resource,omitempty"` // cpu or memory: the HPA reads it, nobody polls it
	Failures   int32    `json:"failures,omitempty"` // consecutive failed polls, as the last decision counted
	Fallback   bool     `json:"fallback,omitempty"` // served its fallback value in the last decision
	// Stale says the last reading is older than StaleAfter polling intervals: the decider
	// counts each poll missed since as a failed poll.
	Stale bool `json:"stale,omitempty"`
}

// Change is one thing that will change the object next: Do, at At (when known), then Unless:
// the condition that prevents or ends it ("unless ...", "until ..."), or what comes with it.
type Change struct {
	Do     string    `json:"do"`
	At     time.Time `json:"at,omitzero"`
	Unless string    `json:"unless,omitempty"`
}

// StaleAfter is how many polling intervals a reading or decision may age before it counts as
// missing: the decider's rule for readings, and its publishing rhythm for decisions.
const StaleAfter = 3

// Explain makes the report for e at now.
func Explain(e Evidence, now time.Time) Report {
	x := &explainer{e: e, now: now, r: Report{Object: e.Object, At: now, Decision: e.Decision, Actions: e.Actions}}
	if d := e.Decision; d != nil {
		x.r.Object.UID, x.r.Object.Generation = d.Object.UID, d.Object.Generation
	}
	x.r.Actions = append([]msg.Action{}, e.Actions...)
	x.r.Warnings = append(x.r.Warnings, e.Problems...)
	x.cluster()
	x.triggers()
	x.checks()
	x.r.Next = x.next()
	return x.r
}

// explainer builds one report.
type explainer struct {
	e   Evidence
	now time.Time
	r   Report
	so  *v1alpha1.ScaledObject
	sj  *v1alpha1.ScaledJob
}

func (x *explainer) warn(format string, args ...any) {
	x.r.Warnings = append(x.r.Warnings, fmt.Sprintf(format, args...))
}

// cluster fills Spec and Status from the object read from the cluster.
func (x *explainer) cluster() {
	c := x.e.Cluster
	if !c.Read {
		x.r.Unknown = append(x.r.Unknown, "spec and status: the cluster was not read (give -kubeconfig): min and max replicas, cooldown, idle replicas, fallback, pause annotations and activation thresholds are not known")
		return
	}
	x.so, x.sj = c.ScaledObject, c.ScaledJob
	switch {
	case x.so != nil:
		x.r.Spec, x.r.Status = objectSpec(x.so), objectStatus(x.so)
	case x.sj != nil:
		x.r.Spec, x.r.Status = jobSpec(x.sj), jobStatus(x.sj)
	default:
		x.warn("the cluster has no %s %s/%s: what the bus holds is its history", x.e.Object.Kind, x.e.Object.Namespace, x.e.Object.Name)
	}
}

func objectSpec(so *v1alpha1.ScaledObject) *Spec {
	s := so.Spec
	out := &Spec{
		Generation:            so.Generation,
		PollingInterval:       or(s.PollingInterval, v1alpha1.DefaultPollingInterval),
		CooldownPeriod:        or(s.CooldownPeriod, v1alpha1.DefaultCooldownPeriod),
		InitialCooldownPeriod: or(s.InitialCooldownPeriod, 0),
		MinReplicaCount:       or(s.MinReplicaCount, v1alpha1.DefaultMinReplicaCount),
		MaxReplicaCount:       or(s.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount),
		IdleReplicaCount:      s.IdleReplicaCount,
		Fallback:              s.Fallback,
	}
	if a := s.Advanced; a != nil && a.ScalingModifiers != nil && a.ScalingModifiers.Formula != "" {
		t := a.ScalingModifiers.ActivationTarget
		if t == "" {
			t = "0"
		}
		out.ActivationTarget = &t
	}
	annotations(out, so.Annotations)
	return out
}

func jobSpec(sj *v1alpha1.ScaledJob) *Spec {
	s := sj.Spec
	out := &Spec{
		Generation:      sj.Generation,
		PollingInterval: or(s.PollingInterval, v1alpha1.DefaultPollingInterval),
		MinReplicaCount: or(s.MinReplicaCount, v1alpha1.DefaultMinReplicaCount),
		MaxReplicaCount: or(s.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount),
	}
	annotations(out, sj.Annotations)
	return out
}

// annotations records the pause and force-activation annotations that are set.
func annotations(s *Spec, a map[string]string) {
	for _, name := range []string{v1alpha1.PausedAnnotation, v1alpha1.PausedReplicasAnnotation,
		v1alpha1.PausedScaleInAnnotation, v1alpha1.PausedScaleOutAnnotation, v1alpha1.ForceActivationAnnotation} {
		v, ok := a[name]
		if !ok {
			continue
		}
		s.Annotations = append(s.Annotations, name+"="+v)
		switch name {
		case v1alpha1.ForceActivationAnnotation:
			s.ForceActivation = s.ForceActivation || v == "true"
		case v1alpha1.PausedReplicasAnnotation:
			s.Paused = true
		default:
			s.Paused = s.Paused || v == "true"
		}
	}
}

func objectStatus(so *v1alpha1.ScaledObject) *Status {
	return newStatus(so.Status.Conditions, so.Status.LastActiveTime, so.Status.HPAName)
}

func jobStatus(sj *v1alpha1.ScaledJob) *Status {
	return newStatus(sj.Status.Conditions, sj.Status.LastActiveTime, "")
}

func newStatus(conds v1alpha1.Conditions, lastActive *metav1.Time, hpa string) *Status {
	st := &Status{Conditions: conds, HPAName: hpa}
	if lastActive != nil {
		st.LastActiveTime = &lastActive.Time
	}
	return st
}

func or(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// triggers lists the triggers of the spec (when read) and of the stored readings.
func (x *explainer) triggers() {
	var spec []v1alpha1.ScaleTriggers
	switch {
	case x.so != nil:
		spec = x.so.Spec.Triggers
	case x.sj != nil:
		spec = x.sj.Spec.Triggers
	}
	n := len(spec)
	for _, r := range x.e.Readings {
		n = max(n, r.Trigger.Index+1)
	}
	if n == 0 {
		return
	}
	reg := trigger.Builtin()
	ts := make([]Trigger, n)
	for i := range ts {
		ts[i].Index = i
	}
	for i, t := range spec {
		ts[i].Type = t.Type
		m, errs := reg.Parse(t.Type, trigger.Params{Metadata: t.Metadata, MetricType: t.MetricType, Unresolved: true}, field.NewPath("spec", "triggers").Index(i))
		if len(errs) > 0 {
			continue // the webhook and the status report a bad trigger; here it only lacks a threshold
		}
		ts[i].MetricName = trigger.MetricName(i, t.Type, m)
		if _, ok := m.(trigger.ResourceMetric); ok {
			ts[i].Resource = true
			continue
		}
		a := trigger.Activation(m)
		ts[i].Activation = &a
	}
	for _, r := range x.e.Readings {
		t := &ts[r.Trigger.Index]
		t.Reading = &r
		if t.Type == "" || t.Type == r.Trigger.Type {
			t.Type, t.MetricName = r.Trigger.Type, r.Trigger.MetricName // the name the HPA is served
		}
		if len(spec) > 0 && (r.Trigger.Index >= len(spec) || spec[r.Trigger.Index].Type != r.Trigger.Type) {
			x.warn("trigger %d: the stored reading is of a %s trigger the spec no longer has", r.Trigger.Index, r.Trigger.Type)
		}
		t.Stale = x.interval() > 0 && x.now.Sub(r.ObservedAt) > StaleAfter*x.interval()
	}
	if d := x.e.Decision; d != nil {
		for i := range ts {
			for _, m := range d.Metrics {
				if m.Name == ts[i].MetricName {
					ts[i].Failures, ts[i].Fallback = m.Failures, m.Fallback
				}
			}
		}
	}
	x.r.Triggers = ts
}

// interval is the object's polling interval: the spec's, else the last decision's; 0 unknown.
func (x *explainer) interval() time.Duration {
	switch {
	case x.r.Spec != nil:
		return time.Duration(x.r.Spec.PollingInterval) * time.Second
	case x.e.Decision != nil:
		return time.Duration(x.e.Decision.PollingInterval) * time.Second
	}
	return 0
}

// checks warns about what looks wrong: silence, stale readings, failed actions, a spec the
// decider has not caught up with, a status that is not Ready.
func (x *explainer) checks() {
	d := x.e.Decision
	iv := x.interval()
	switch {
	case d == nil && len(x.e.Readings) == 0:
		x.warn("nothing on the bus for this object: no reading and no decision; is a poller running for it, and is the name and kind right?")
	case d == nil:
		x.warn("no decision stored for this object: is a decider running, and does it see the object?")
	case iv > 0 && x.now.Sub(d.DecidedAt) > StaleAfter*iv:
		x.warn("the last decision is %s old, over %d polling intervals (%s): a decider publishes at least every 1¼ intervals; is one running and holding this object?",
			x.now.Sub(d.DecidedAt).Round(time.Second), StaleAfter, iv)
	}
	for _, t := range x.r.Triggers {
		switch {
		case t.Resource:
		case t.Reading == nil:
			x.warn("trigger %d (%s): no reading on the bus; is a poller running for it?", t.Index, t.Type)
		case t.Stale:
			x.warn("trigger %d (%s): last read %s ago, over %d polling intervals (%s): the decider counts every poll missed since as a failed poll; is a poller running for it?",
				t.Index, t.Type, x.now.Sub(t.Reading.ObservedAt).Round(time.Second), StaleAfter, iv)
		}
	}
	if s := x.r.Spec; s != nil && d != nil && d.Object.Generation != 0 && d.Object.Generation < s.Generation {
		x.warn("the last decision is for generation %d, the spec is at %d: the decider has not decided on the new spec yet", d.Object.Generation, s.Generation)
	}
	if n := len(x.e.Actions); n > 0 {
		if a := x.e.Actions[n-1]; a.Result == msg.ResultFailed {
			x.warn("the last action failed: %s: %s", a.Operation, a.Error)
		}
	}
	if st := x.r.Status; st != nil {
		if c, ok := st.Conditions.Get(v1alpha1.ConditionReady); ok && c.Status != "True" {
			x.warn("status: Ready is %s: %s %s", c.Status, c.Reason, c.Message)
		}
	}
}
