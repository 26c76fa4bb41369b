package hpa

import (
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Pods is what the HPA reads about its target on a sync.
type Pods struct {
	Replicas int32 // scale.spec.replicas: the count the HPA scales from
	Existing int32 // scale.status.replicas: pods that exist; an AverageValue target divides by it
	Ready    int32 // running and ready pods; a Value target multiplies by it
}

// Steady is a target whose n pods all exist and are ready.
func Steady(n int32) Pods { return Pods{Replicas: n, Existing: n, Ready: n} }

// Proposal is the replica count one External metric asks for, computed as the replica
// calculator does: values in milli-units, tolerance around a usage ratio of 1, and ceil.
// ok is false where the HPA fails the metric (a Value target with no pods to count).
func Proposal(m MetricSpec, value float64, pods Pods, tol Tolerances) (replicas int32, ok bool) {
	usage, target := MilliValue(value), MilliTarget(m.Target)
	if m.Type == autoscalingv2.ValueMetricType {
		return valueProposal(float64(usage)/float64(target), pods, tol)
	}
	replicas = pods.Existing
	ratio := float64(usage) / (float64(target) * float64(replicas))
	if !tol.Within(ratio) {
		replicas = clampInt32(math.Ceil(float64(usage) / float64(target)))
	}
	return replicas, true
}

// valueProposal scales the ready pods by the usage ratio; from zero replicas it is the
// ratio itself, without tolerance.
func valueProposal(ratio float64, pods Pods, tol Tolerances) (int32, bool) {
	if pods.Replicas == 0 {
		return clampInt32(math.Ceil(ratio)), true
	}
	if tol.Within(ratio) {
		return pods.Replicas, true
	}
	if pods.Existing == 0 {
		return 0, false // "no pods returned by selector while calculating replica count"
	}
	return clampInt32(math.Ceil(ratio * float64(pods.Ready))), true
}

func clampInt32(f float64) int32 {
	switch {
	case f > math.MaxInt32:
		return math.MaxInt32
	case f < math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}
