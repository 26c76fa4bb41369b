package status

import (
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Facts are what the ScaledObject reconciler found in the spec and the cluster.
type Facts struct {
	// Target is the resolved scale target; nil when it could not be resolved.
	Target *v1alpha1.GroupVersionKindResource
	// Replicas is the target's replica count when it was read; it becomes
	// originalReplicaCount the first time ebb takes the target over.
	Replicas *int32
	// HPA is the desired HPA (named and with metrics even while paused); nil when the spec
	// could not be turned into one.
	HPA   *autoscalingv2.HorizontalPodAutoscaler
	Pause Pause
	// Problem says why the object is not Ready; nil when it is.
	Problem *Problem
}

// ScaledObject returns st updated with what the reconciler owns: target, original replica
// count, HPA and metric names, trigger and authentication summaries, pause state, and the
// Ready and Paused conditions. Fields the decision applier owns are left as they are.
func ScaledObject(st v1alpha1.ScaledObjectStatus, so *v1alpha1.ScaledObject, f Facts) v1alpha1.ScaledObjectStatus {
	st = *st.DeepCopy()
	if f.Target != nil {
		st.ScaleTargetGVKR = f.Target.DeepCopy()
		st.ScaleTargetKind = f.Target.Group + "/" + f.Target.Version + "." + f.Target.Kind
		if f.Target.Group == "" {
			st.ScaleTargetKind = f.Target.Version + "." + f.Target.Kind
		}
	}
	if st.OriginalReplicaCount == nil && f.Replicas != nil {
		st.OriginalReplicaCount = new(*f.Replicas)
	}
	if f.HPA != nil {
		st.HPAName = f.HPA.Name
		st.ExternalMetricNames, st.ResourceMetricNames = metricNames(f.HPA.Spec.Metrics)
	}
	st.TriggersTypes = summary(so.Spec.Triggers, func(t v1alpha1.ScaleTriggers) string { return t.Type })
	st.AuthenticationsTypes = summary(so.Spec.Triggers, authName)
	st.PausedReplicaCount = nil
	if f.Pause.Replicas != nil {
		st.PausedReplicaCount = new(*f.Pause.Replicas)
	}
	st.Conditions = initialize(st.Conditions)
	st.Conditions.Set(ready(ReasonScaledObjectReady, ReasonCheckFailed, f.Problem))
	st.Conditions.Set(paused(f.Pause, ReasonScaledObjectPaused, ReasonScaledObjectRunning))
	return st
}

func metricNames(metrics []autoscalingv2.MetricSpec) (external, resource []string) {
	for _, m := range metrics {
		switch {
		case m.External != nil:
			external = append(external, m.External.Metric.Name)
		case m.Resource != nil:
			resource = append(resource, string(m.Resource.Name))
		case m.ContainerResource != nil:
			resource = append(resource, string(m.ContainerResource.Name))
		}
	}
	return external, resource
}

// summary joins the distinct non-empty values of triggers with commas, in spec order; nil
// when there are none.
func summary(triggers []v1alpha1.ScaleTriggers, value func(v1alpha1.ScaleTriggers) string) *string {
	var seen []string
	for _, t := range triggers {
		if v := value(t); v != "" && !slices.Contains(seen, v) {
			seen = append(seen, v)
		}
	}
	if len(seen) == 0 {
		return nil
	}
	return new(strings.Join(seen, ","))
}

func authName(t v1alpha1.ScaleTriggers) string {
	if t.AuthenticationRef == nil {
		return ""
	}
	return t.AuthenticationRef.Name
}

// ScaledJob returns st updated with what the ScaledJob reconciler owns: trigger and
// authentication summaries, the pause flag, and the Ready and Paused conditions.
func ScaledJob(st v1alpha1.ScaledJobStatus, sj *v1alpha1.ScaledJob, p Pause, problem *Problem) v1alpha1.ScaledJobStatus {
	st = *st.DeepCopy()
	st.TriggersTypes = summary(sj.Spec.Triggers, func(t v1alpha1.ScaleTriggers) string { return t.Type })
	st.AuthenticationsTypes = summary(sj.Spec.Triggers, authName)
	st.Paused = ""
	if p.Paused() {
		st.Paused = "true"
	}
	st.Conditions = initialize(st.Conditions)
	st.Conditions.Set(ready(ReasonScaledJobReady, ReasonScaledJobFailed, problem))
	st.Conditions.Set(paused(p, ReasonScaledJobPaused, ReasonScaledJobRunning))
	return st
}
