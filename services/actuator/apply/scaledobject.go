package apply

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator/action"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/status"
	"ebb.dev/services/actuator/target"
)

// scaledObject applies d: the scale write when the rule asks for one, then the status.
func (a *Applier) scaledObject(ctx context.Context, nn types.NamespacedName, d msg.Decision, m memo) (memo, error) {
	var so v1alpha1.ScaledObject
	if err := a.get(ctx, nn, &so); err != nil {
		return m, err
	}
	pause, err := status.ReadPause(so.Annotations)
	switch v, why := judge(d, &so, err != nil || pause.Paused(), a.clock.Now()); v {
	case skip:
		a.Logger.Debug("decision skipped", "namespace", nn.Namespace, "scaledObject", nn.Name, "why", why)
		return m, nil
	case wait:
		return m, fmt.Errorf("%s: %w", why, errWait)
	}
	t, ok := targetOf(&so)
	if !ok {
		return m, fmt.Errorf("scale target of %s not resolved yet: %w", nn, errWait)
	}
	m, err = a.scale(ctx, &so, t, d, m)
	if err != nil {
		return m, err
	}
	if d.Active {
		m.lastActive = d.DecidedAt
	}
	return m, a.writeStatus(ctx, &so, d, m)
}

// targetOf is the target the reconciler resolved and recorded in status.
func targetOf(so *v1alpha1.ScaledObject) (target.Ref, bool) {
	if so.Status.ScaleTargetGVKR == nil || so.Spec.ScaleTargetRef == nil {
		return target.Ref{}, false
	}
	return target.Ref{Namespace: so.Namespace, Name: so.Spec.ScaleTargetRef.Name, GVKR: *so.Status.ScaleTargetGVKR}, true
}

// scale writes the decided replicas, within maxReplicaCount, when NeedsScaleWrite says so,
// judged on the count read just before the write (and read again if the write conflicts).
func (a *Applier) scale(ctx context.Context, so *v1alpha1.ScaledObject, t target.Ref, d msg.Decision, m memo) (memo, error) {
	minReplicas, maxReplicas := v1alpha1.DefaultMinReplicaCount, v1alpha1.DefaultMaxReplicaCount
	if so.Spec.MinReplicaCount != nil {
		minReplicas = *so.Spec.MinReplicaCount
	}
	if so.Spec.MaxReplicaCount != nil {
		maxReplicas = *so.Spec.MaxReplicaCount
	}
	desired := min(d.DesiredReplicas, max(maxReplicas, minReplicas, 1))
	if !mayNeedScaleWrite(d, m.replicas, minReplicas) {
		return m, nil
	}
	mv, err := a.Targets.Scale(ctx, t, func(current int32) (int32, bool) {
		return desired, NeedsScaleWrite(current, desired, minReplicas, d.Reason)
	})
	ref := action.Ref(msg.ScaledObject, so)
	up := desired > mv.From
	if err != nil {
		m.replicas = nil
		a.record(ref, d, msg.OpScale, msg.Count(mv.From), msg.Count(desired), err)
		reason := controller.EventDeactivationFailed
		if up {
			reason = controller.EventActivationFailed
		}
		a.Events.Eventf(so, nil, corev1.EventTypeWarning, reason, string(msg.OpScale), "scale %s to %d: %v", t, desired, err)
		return m, err
	}
	m.replicas = &mv.To
	if !mv.Wrote {
		return m, nil
	}
	a.record(ref, d, msg.OpScale, msg.Count(mv.From), msg.Count(mv.To), nil)
	if up && mv.From >= max(minReplicas, 1) {
		// A fast-path step inside the HPA's range is no activation: its Action on the bus
		// records it, and an Event per step would flood the object's events.
		return m, nil
	}
	reason := controller.EventDeactivated
	if up {
		reason = controller.EventActivated
	}
	a.Events.Eventf(so, nil, corev1.EventTypeNormal, reason, string(msg.OpScale), "scaled %s from %d to %d (%s)", t, mv.From, mv.To, d.Reason)
	return m, nil
}

// writeStatus records activity, health and fallback from d when they change.
func (a *Applier) writeStatus(ctx context.Context, so *v1alpha1.ScaledObject, d msg.Decision, m memo) error {
	activity := status.ActivityOf(d, m.lastActive, a.cfg.LastActiveResolution)
	cur := so.DeepCopy()
	var before v1alpha1.ScaledObjectStatus
	wrote, err := a.updateStatus(ctx, cur, func() bool {
		before = cur.Status
		cur.Status = status.Decided(cur.Status, d, activity)
		return !equality.Semantic.DeepEqual(before, cur.Status)
	})
	if !wrote {
		return err
	}
	a.record(action.Ref(msg.ScaledObject, so), d, msg.OpStatus, nil, nil, err)
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", so.Namespace, so.Name, err)
	}
	a.statusEvents(cur, before, d)
	return nil
}

// statusEvents reports scalers that started failing and fallback that engaged.
func (a *Applier) statusEvents(so *v1alpha1.ScaledObject, before v1alpha1.ScaledObjectStatus, d msg.Decision) {
	failures := map[string]msg.MetricValue{}
	for _, mv := range d.Metrics {
		failures[mv.Name] = mv
	}
	for _, name := range status.NewlyFailing(before.Health, so.Status.Health) {
		mv := failures[name]
		a.Events.Eventf(so, nil, corev1.EventTypeWarning, controller.EventScalerFailed, string(msg.OpStatus),
			"metric %s failed %d times in a row: %s", name, mv.Failures, mv.Error)
	}
	if status.Became(before.Conditions, so.Status.Conditions, v1alpha1.ConditionFallback, metav1.ConditionTrue) {
		a.Events.Eventf(so, nil, corev1.EventTypeWarning, controller.EventFallback, string(msg.OpStatus),
			"failing triggers are served fallback values")
	}
}
