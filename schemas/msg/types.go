package msg

import "time"

// Schema identifiers carried in every message's schema field. A breaking change to a message
// gets a new version here, never an edit of an old one.
const (
	ReadingSchema  = "ebb.dev/reading/v1"
	DecisionSchema = "ebb.dev/decision/v1"
	ActionSchema   = "ebb.dev/action/v1"
)

// Kind is the kind of scaled object a message is about.
type Kind string

const (
	ScaledObject Kind = "ScaledObject"
	ScaledJob    Kind = "ScaledJob"
)

// ObjectRef names the ScaledObject or ScaledJob a message is about, at the generation it was read.
type ObjectRef struct {
	Namespace  string `json:"namespace" jsonschema:"minLength=1"`
	Kind       Kind   `json:"kind" jsonschema:"enum=ScaledObject,enum=ScaledJob"`
	Name       string `json:"name" jsonschema:"minLength=1"`
	UID        string `json:"uid"`
	Generation int64  `json:"generation"`
}

// TriggerRef names one trigger of an object: its position in spec.triggers and the external
// metric it is served as (s<index>-<scaler>-<detail>).
type TriggerRef struct {
	Index      int    `json:"index" jsonschema:"minimum=0"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type" jsonschema:"minLength=1"`
	MetricName string `json:"metricName" jsonschema:"minLength=1"`
}

// Target is the value a trigger's metric is compared against by the HPA.
type Target struct {
	Type  MetricType `json:"type" jsonschema:"enum=AverageValue,enum=Value,enum=Utilization"`
	Value float64    `json:"value"`
}

// MetricType is how the HPA compares a metric with its target.
type MetricType string

const (
	AverageValue MetricType = "AverageValue"
	Value        MetricType = "Value"
	Utilization  MetricType = "Utilization"
)

// Reading is one poll of one trigger, published by a poller.
type Reading struct {
	Schema     string     `json:"schema" jsonschema:"enum=ebb.dev/reading/v1"`
	Object     ObjectRef  `json:"object"`
	Trigger    TriggerRef `json:"trigger"`
	Value      float64    `json:"value"`
	Active     bool       `json:"active"`
	Target     Target     `json:"target"`
	Error      string     `json:"error,omitempty"` // empty when the poll succeeded
	ObservedAt time.Time  `json:"observedAt"`
	Poller     string     `json:"poller" jsonschema:"minLength=1"`
}

// Reason says why a decision chose its replica count.
type Reason string

const (
	ReasonActivate   Reason = "activate"   // became active at zero (or idle): scale to max(min, 1)
	ReasonDeactivate Reason = "deactivate" // inactive past the cooldown: scale to zero
	ReasonCooldown   Reason = "cooldown"   // inactive but still inside the cooldown: keep replicas
	ReasonHPA        Reason = "hpa"        // between 1 and max the HPA decides from the metrics
	ReasonFallback   Reason = "fallback"   // triggers failing past failureThreshold
	ReasonPaused     Reason = "paused"     // paused by annotation
	ReasonIdle       Reason = "idle"       // inactive past the cooldown: scale to idleReplicaCount
	ReasonMin        Reason = "min"        // raised to minReplicaCount
	ReasonMax        Reason = "max"        // capped at maxReplicaCount
	ReasonJobs       Reason = "jobs"       // ScaledJob: jobs to create this interval
	ReasonFailing    Reason = "failing"    // inactive while a trigger fails: held, never scaled to zero
	// ReasonFastPath: active, and the HPA's count is above the current replicas, so ebb writes
	// desiredReplicas at once instead of waiting for the HPA's next sync and growth limit. It is
	// the count the HPA computes from the same served metrics (within maxReplicaCount), or, when
	// behavior.scaleUp is set, the step its policies and stabilization allow at this instant; the
	// HPA keeps it. Only ever above currentReplicas; scale-down stays with the HPA.
	ReasonFastPath Reason = "fast-path"
)

// Reasons lists every Reason in a stable order.
func Reasons() []Reason {
	return []Reason{ReasonActivate, ReasonDeactivate, ReasonCooldown, ReasonHPA, ReasonFallback,
		ReasonPaused, ReasonIdle, ReasonMin, ReasonMax, ReasonJobs, ReasonFailing, ReasonFastPath}
}

// Decision is the decider's verdict for one object, published for the actuator.
type Decision struct {
	Schema string    `json:"schema" jsonschema:"enum=ebb.dev/decision/v1"`
	Object ObjectRef `json:"object"`
	// DesiredReplicas is where the target goes: ebb's own step (activate, deactivate, idle, min,
	// fast-path), which the actuator writes to the scale subresource, or where the HPA takes it
	// (hpa, max, fallback, cooldown, failing), which the actuator leaves to the HPA.
	DesiredReplicas int32     `json:"desiredReplicas" jsonschema:"minimum=0"`
	Active          bool      `json:"active"`
	Reason          Reason    `json:"reason" jsonschema:"enum=activate,enum=deactivate,enum=cooldown,enum=hpa,enum=fallback,enum=paused,enum=idle,enum=min,enum=max,enum=jobs,enum=failing,enum=fast-path"`
	CurrentReplicas int32     `json:"currentReplicas" jsonschema:"minimum=0"`
	Inputs          []Reading `json:"inputs"` // the readings the decision used
	// Metrics are the values the HPA must be served for this object, exactly as the decision
	// used them: raw readings, fallback values or the composite. metrics-api serves these.
	Metrics []MetricValue `json:"metrics,omitempty"`
	// PollingInterval is the object's, in seconds: a served value older than a few intervals
	// is stale.
	PollingInterval int32 `json:"pollingInterval,omitempty" jsonschema:"minimum=0"`
	Jobs            *Jobs `json:"jobs,omitempty"`
	// NextChangeAt is when this decision changes by itself, without a new reading: the end of
	// the cooldown, after which an object still inactive scales to zero (or idleReplicaCount).
	// The decision holds up to this instant and changes just after it. Absent when nothing is
	// due.
	NextChangeAt time.Time `json:"nextChangeAt,omitzero"`
	DecidedAt    time.Time `json:"decidedAt"`
	Decider      string    `json:"decider" jsonschema:"minLength=1"`
}

// MetricValue is one external metric as the HPA must see it, with the health of the trigger
// behind it.
type MetricValue struct {
	Name  string  `json:"name" jsonschema:"minLength=1"`
	Value float64 `json:"value"`
	// Error is set when there is no value to serve: the trigger is failing and no fallback
	// applies. The HPA then gets an error, never a zero.
	Error string `json:"error,omitempty"`
	// Fallback says Value is the fallback value (target × fallback replicas), not a reading.
	Fallback bool `json:"fallback,omitempty"`
	// Failures counts the trigger's consecutive failed polls.
	Failures int32 `json:"failures,omitempty" jsonschema:"minimum=0"`
}

// Jobs is a ScaledJob decision's job arithmetic: how many Jobs to create and the counts it used.
type Jobs struct {
	Create  int32 `json:"create" jsonschema:"minimum=0"`
	Running int32 `json:"running" jsonschema:"minimum=0"`
	Pending int32 `json:"pending" jsonschema:"minimum=0"`
}

// Operation is what the actuator did to the cluster.
type Operation string

const (
	OpScale      Operation = "scale"
	OpHPACreate  Operation = "hpa-create"
	OpHPAUpdate  Operation = "hpa-update"
	OpHPADelete  Operation = "hpa-delete"
	OpJobCreate  Operation = "job-create"
	OpJobCleanup Operation = "job-cleanup"
	OpStatus     Operation = "status"
)

// Operations lists every Operation in a stable order.
func Operations() []Operation {
	return []Operation{OpScale, OpHPACreate, OpHPAUpdate, OpHPADelete, OpJobCreate, OpJobCleanup, OpStatus}
}

// Result is how an operation ended.
type Result string

const (
	ResultOK     Result = "ok"
	ResultFailed Result = "failed"
)

// DecisionRef identifies the decision an action applies.
type DecisionRef struct {
	DesiredReplicas int32     `json:"desiredReplicas" jsonschema:"minimum=0"`
	Reason          Reason    `json:"reason" jsonschema:"enum=activate,enum=deactivate,enum=cooldown,enum=hpa,enum=fallback,enum=paused,enum=idle,enum=min,enum=max,enum=jobs,enum=failing,enum=fast-path"`
	DecidedAt       time.Time `json:"decidedAt"`
	Decider         string    `json:"decider" jsonschema:"minLength=1"`
}

// Action is one change the actuator made (or failed to make), published for the audit trail.
// From and To are counts whose meaning depends on the operation: replicas for scale, the HPA's
// maxReplicas for hpa-*, Jobs for job-*; they are absent when an operation has no count.
type Action struct {
	Schema    string       `json:"schema" jsonschema:"enum=ebb.dev/action/v1"`
	Object    ObjectRef    `json:"object"`
	Decision  *DecisionRef `json:"decision,omitempty"` // absent when the action follows a spec change
	Operation Operation    `json:"operation" jsonschema:"enum=scale,enum=hpa-create,enum=hpa-update,enum=hpa-delete,enum=job-create,enum=job-cleanup,enum=status"`
	From      *int32       `json:"from,omitempty"`
	To        *int32       `json:"to,omitempty"`
	Result    Result       `json:"result" jsonschema:"enum=ok,enum=failed"`
	Error     string       `json:"error,omitempty"` // what failed, when result is failed
	At        time.Time    `json:"at"`
}

// Count returns a pointer to n, for Action.From and Action.To.
func Count(n int32) *int32 { return &n }

// DecisionRef returns the reference an Action applying d carries.
func (d Decision) DecisionRef() *DecisionRef {
	return &DecisionRef{DesiredReplicas: d.DesiredReplicas, Reason: d.Reason, DecidedAt: d.DecidedAt, Decider: d.Decider}
}
