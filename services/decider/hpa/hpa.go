package hpa

import (
	"fmt"
	"math"
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Condition names why a sync ended where it did, using the reasons the HPA writes to its
// status conditions (AboveMaxReplicas and BelowMinReplicas stand for its rescale reasons).
type Condition string

const (
	ScalingDisabled         Condition = "ScalingDisabled"         // target at 0 replicas: the HPA does nothing
	FailedGetExternalMetric Condition = "FailedGetExternalMetric" // no usable proposal: the count is kept
	AboveMaxReplicas        Condition = "AboveMaxReplicas"        // current above maxReplicas: set to max
	BelowMinReplicas        Condition = "BelowMinReplicas"        // current below minReplicas: set to min
	DesiredWithinRange      Condition = "DesiredWithinRange"
	ScaleUpStabilized       Condition = "ScaleUpStabilized"
	ScaleDownStabilized     Condition = "ScaleDownStabilized"
	ScaleUpLimit            Condition = "ScaleUpLimit"
	ScaleDownLimit          Condition = "ScaleDownLimit"
	TooManyReplicas         Condition = "TooManyReplicas"
	TooFewReplicas          Condition = "TooFewReplicas"
)

// Sample is the value the metrics API serves for one metric, or a failed request.
type Sample struct {
	Value  float64
	Failed bool
}

// Result is the outcome of one sync.
type Result struct {
	Replicas  int32     // scale.spec.replicas after the sync
	Rescaled  bool      // the HPA wrote a new count
	Proposal  int32     // largest metric proposal, before stabilization and limits (0 when not computed)
	Metric    string    // the metric that made the proposal
	Condition Condition // what bounded the result
}

// HPA is one HorizontalPodAutoscaler as kube-controller-manager keeps it in memory: its spec
// plus the recommendations and scale events of past syncs. Drive it with Sync every SyncPeriod.
// It is not safe for concurrent use; Clone it to explore what-ifs.
type HPA struct {
	spec    Spec // validated; Behavior defaulted
	tol     Tolerances
	started bool
	recs    []recommendation
	ups     []scaleEvent
	downs   []scaleEvent
}

type recommendation struct {
	replicas int32
	at       time.Time
}

type scaleEvent struct {
	change   int32 // absolute
	at       time.Time
	outdated bool
}

// New validates spec and returns an HPA with no history, as after the controller first sees it.
func New(spec Spec) (*HPA, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("hpa: %w", err)
	}
	spec.Metrics = slices.Clone(spec.Metrics)
	tol := TolerancesFor(spec.Behavior)
	spec.Behavior = defaulted(spec.Behavior)
	return &HPA{spec: spec, tol: tol}, nil
}

// Spec returns the spec with the API server's behavior defaults applied.
func (h *HPA) Spec() Spec { return h.spec }

// Tolerances returns the tolerances the HPA applies.
func (h *HPA) Tolerances() Tolerances { return h.tol }

// Clone returns an independent copy, history included.
func (h *HPA) Clone() *HPA {
	c := *h
	c.recs, c.ups, c.downs = slices.Clone(h.recs), slices.Clone(h.ups), slices.Clone(h.downs)
	return &c
}

// Sync runs one reconcile at now with every pod existing and ready; see SyncPods.
func (h *HPA) Sync(now time.Time, current int32, samples []Sample) Result {
	return h.SyncPods(now, Steady(current), samples)
}

// SyncPods runs one reconcile at now. samples[i] is what the metrics API serves for
// Spec.Metrics[i]; a missing entry counts as a failed request.
func (h *HPA) SyncPods(now time.Time, pods Pods, samples []Sample) Result {
	current := pods.Replicas
	if !h.started {
		h.started = true
		h.recs = append(h.recs, recommendation{current, now})
	}
	res := Result{Replicas: current}
	var desired int32
	switch {
	case current == 0:
		res.Condition = ScalingDisabled
		return res
	case current > h.spec.MaxReplicas:
		desired, res.Condition = h.spec.MaxReplicas, AboveMaxReplicas
	case current < h.spec.MinReplicas:
		desired, res.Condition = h.spec.MinReplicas, BelowMinReplicas
	default:
		proposal, metric, ok := Propose(h.spec.Metrics, samples, pods, h.tol)
		if !ok {
			res.Condition = FailedGetExternalMetric
			return res
		}
		res.Proposal, res.Metric = proposal, metric
		desired = max(proposal, 0)
		if h.spec.Behavior == nil {
			desired, res.Condition = h.normalize(now, current, desired)
		} else {
			desired, res.Condition = h.normalizeWithBehavior(now, current, desired)
		}
	}
	if desired != current {
		res.Replicas, res.Rescaled = desired, true
		h.storeEvent(now, current, desired)
	}
	return res
}

// Propose is the count a set of External metrics asks for: the largest proposal of the
// metrics that could be computed, and the metric that made it. Like the controller it gives up
// (ok false) when every metric failed, or when some failed and the rest would scale down.
// samples[i] is the value of metrics[i]; a missing entry counts as a failed request.
func Propose(metrics []MetricSpec, samples []Sample, pods Pods, tol Tolerances) (replicas int32, metric string, ok bool) {
	invalid := 0
	for i, m := range metrics {
		if i >= len(samples) || samples[i].Failed {
			invalid++
			continue
		}
		p, ok := Proposal(m, samples[i].Value, pods, tol)
		if !ok {
			invalid++
			continue
		}
		if replicas == 0 || p > replicas {
			replicas, metric = p, m.Name
		}
	}
	if invalid >= len(metrics) || (invalid > 0 && replicas < pods.Replicas) {
		return 0, "", false
	}
	return replicas, metric, true
}

// normalize is the path without behavior: the highest recommendation of the downscale
// window, then [minReplicas, min(maxReplicas, max(2×current, 4))].
func (h *HPA) normalize(now time.Time, current, desired int32) (int32, Condition) {
	stabilized := h.stabilizeDown(now, desired)
	limit := int32(math.Max(2*float64(current), 4))
	maxAllowed, bound := h.spec.MaxReplicas, TooManyReplicas
	if h.spec.MaxReplicas > limit {
		maxAllowed, bound = limit, ScaleUpLimit
	}
	switch {
	case stabilized < h.spec.MinReplicas:
		return h.spec.MinReplicas, TooFewReplicas
	case stabilized > maxAllowed:
		return maxAllowed, bound
	case stabilized != desired:
		return stabilized, ScaleDownStabilized
	}
	return stabilized, DesiredWithinRange
}

// stabilizeDown records desired and returns the highest recommendation not older than the
// controller's downscale stabilization window (a sample exactly at the cutoff still counts).
func (h *HPA) stabilizeDown(now time.Time, desired int32) int32 {
	cutoff := now.Add(-DefaultDownscaleStabilization)
	highest, old := desired, -1
	for i, r := range h.recs {
		if r.at.Before(cutoff) {
			old = i
		} else if r.replicas > highest {
			highest = r.replicas
		}
	}
	h.record(old, recommendation{desired, now})
	return highest
}

// record reuses the slot of a sample that fell out of every window, as the controller does.
func (h *HPA) record(old int, r recommendation) {
	if old >= 0 {
		h.recs[old] = r
		return
	}
	h.recs = append(h.recs, r)
}

// normalizeWithBehavior is the path with behavior: stabilization windows first (scale up
// to the lowest recommendation of its window, down to the highest of its own), then the
// rate limits of the policies.
func (h *HPA) normalizeWithBehavior(now time.Time, current, desired int32) (int32, Condition) {
	up, down := h.spec.Behavior.ScaleUp, h.spec.Behavior.ScaleDown
	upRec, downRec := h.stabilize(now, desired)
	stabilized := min(max(current, upRec), downRec)

	cond := DesiredWithinRange
	if stabilized != desired {
		cond = ScaleDownStabilized
		if desired >= current {
			cond = ScaleUpStabilized
		}
	}
	switch {
	case stabilized > current:
		limit := max(rateLimit(now, current, h.ups, h.downs, up, true), current)
		maxAllowed, bound := h.spec.MaxReplicas, TooManyReplicas
		if h.spec.MaxReplicas > limit {
			maxAllowed, bound = limit, ScaleUpLimit
		}
		if stabilized > maxAllowed {
			return maxAllowed, bound
		}
	case stabilized < current:
		limit := min(rateLimit(now, current, h.ups, h.downs, down, false), current)
		minAllowed, bound := h.spec.MinReplicas, TooFewReplicas
		if h.spec.MinReplicas < limit {
			minAllowed, bound = limit, ScaleDownLimit
		}
		if stabilized < minAllowed {
			return minAllowed, bound
		}
	}
	return stabilized, cond
}

// stabilize records desired and returns the lowest recommendation of the scale-up window
// and the highest of the scale-down window, desired included.
func (h *HPA) stabilize(now time.Time, desired int32) (upRec, downRec int32) {
	up, down := h.spec.Behavior.ScaleUp, h.spec.Behavior.ScaleDown
	upCut := now.Add(-seconds(*up.StabilizationWindowSeconds))
	downCut := now.Add(-seconds(*down.StabilizationWindowSeconds))
	upRec, downRec, old := desired, desired, -1
	for i, r := range h.recs {
		if r.at.After(upCut) {
			upRec = min(upRec, r.replicas)
		}
		if r.at.After(downCut) {
			downRec = max(downRec, r.replicas)
		}
		if r.at.Before(upCut) && r.at.Before(downCut) {
			old = i
		}
	}
	h.record(old, recommendation{desired, now})
	return upRec, downRec
}

// LimitUp is the scale-up half of a sync with behavior, run at any instant rather than every
// SyncPeriod: it records desired (the metrics' proposal) as a recommendation and returns the
// count the scale-up stabilization window and rate limits allow from current, within
// maxReplicas, recording the rise as a scale event. Like the first sync, the first call also
// records current as a recommendation, so a model without history (a restarted decider) waits
// out a scale-up window before it rises, as a new HPA does. It never goes below current: a lower
// proposal is recorded and current returned with DesiredWithinRange. ebb's fast path drives a
// model of its own with it; without behavior there is nothing to limit and desired is
// returned within [current, maxReplicas].
func (h *HPA) LimitUp(now time.Time, current, desired int32) (int32, Condition) {
	if h.spec.Behavior == nil {
		if desired > h.spec.MaxReplicas {
			return max(current, h.spec.MaxReplicas), TooManyReplicas
		}
		return max(current, desired), DesiredWithinRange
	}
	if !h.started {
		h.started = true
		h.recs = append(h.recs, recommendation{current, now})
	}
	upRec, _ := h.stabilize(now, desired)
	target, cond := max(current, upRec), DesiredWithinRange
	if upRec < desired {
		cond = ScaleUpStabilized
	}
	if target <= current {
		return current, cond
	}
	limit := max(rateLimit(now, current, h.ups, h.downs, h.spec.Behavior.ScaleUp, true), current)
	switch {
	case target > h.spec.MaxReplicas && h.spec.MaxReplicas <= limit:
		target, cond = max(current, h.spec.MaxReplicas), TooManyReplicas
	case target > limit:
		target, cond = limit, ScaleUpLimit
	}
	if target > current {
		h.storeEvent(now, current, target)
	}
	return target, cond
}

// Observe records a change of the replica count made outside this model (by the HPA, by
// ebb's fast path when this model is the HPA's, by a user), so its rate limits count it.
func (h *HPA) Observe(now time.Time, from, to int32) {
	if from != to {
		h.storeEvent(now, from, to)
	}
}

// rateLimit is the furthest count the policies of r allow now in one direction, each
// policy measured from the replicas at the start of its period (current minus what was
// added plus what was removed within it). selectPolicy Max takes the most permissive
// policy, Min the least, Disabled allows no change.
func rateLimit(now time.Time, current int32, ups, downs []scaleEvent, r *autoscalingv2.HPAScalingRules, up bool) int32 {
	if *r.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	permissive := up != (*r.SelectPolicy == autoscalingv2.MinChangePolicySelect)
	pick, result := smaller, int32(math.MaxInt32)
	if permissive {
		pick, result = larger, math.MinInt32
	}
	for _, p := range r.Policies {
		start := current - changedWithin(now, p.PeriodSeconds, ups) + changedWithin(now, p.PeriodSeconds, downs)
		result = pick(result, policyBound(p, start, up))
	}
	return result
}

// policyBound is where one policy lets the count go from start: Percent rounds up when
// growing and down when shrinking.
func policyBound(p autoscalingv2.HPAScalingPolicy, start int32, up bool) int32 {
	switch {
	case p.Type == autoscalingv2.PodsScalingPolicy && up:
		return start + p.Value
	case p.Type == autoscalingv2.PodsScalingPolicy:
		return start - p.Value
	case up:
		return int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
	}
	return int32(float64(start) * (1 - float64(p.Value)/100))
}

// changedWithin sums the replicas changed by events strictly inside the last period.
func changedWithin(now time.Time, periodSeconds int32, events []scaleEvent) int32 {
	cutoff := now.Add(-seconds(periodSeconds))
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// storeEvent keeps the scale events the rate limits read. Like the controller, an event
// older than the longest policy period of its own direction is marked outdated and its slot
// reused, even though the other direction's policies may still be reading it.
func (h *HPA) storeEvent(now time.Time, prev, next int32) {
	if h.spec.Behavior == nil {
		return
	}
	if next > prev {
		h.ups = store(h.ups, now, next-prev, h.spec.Behavior.ScaleUp)
		return
	}
	h.downs = store(h.downs, now, prev-next, h.spec.Behavior.ScaleDown)
}

func store(events []scaleEvent, now time.Time, change int32, r *autoscalingv2.HPAScalingRules) []scaleEvent {
	var longest int32
	for _, p := range r.Policies {
		longest = max(longest, p.PeriodSeconds)
	}
	cutoff := now.Add(-seconds(longest))
	reuse := -1
	for i := range events {
		if events[i].at.Before(cutoff) {
			events[i].outdated = true
		}
		if events[i].outdated {
			reuse = i
		}
	}
	e := scaleEvent{change: change, at: now}
	if reuse >= 0 {
		events[reuse] = e
		return events
	}
	return append(events, e)
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

func larger(a, b int32) int32  { return max(a, b) }
func smaller(a, b int32) int32 { return min(a, b) }
