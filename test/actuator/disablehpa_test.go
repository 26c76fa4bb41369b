package actuator

import (
	"context"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

// With DisableHPA (ebb actuator -manage-hpa=false, for benchmarks) a ScaledObject is still
// claimed, reconciled and scaled 0→1, but no HPA is ever created.
func TestDisableHPA(t *testing.T) {
	e := start(t, false)
	cfg := e.config("no-hpa")
	cfg.DisableHPA, cfg.DisableWebhook = true, true
	e.runActuator(t, cfg)

	ns := e.namespace(t, "no-hpa")
	so := scaledObject(ns, "orders", &v1alpha1.ScaleTarget{Name: "consumer"})
	e.create(t, deployment(ns, "consumer", 0), so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Active, d.DesiredReplicas, d.Reason = true, 1, msg.ReasonActivate
	})
	e.actions.wait(t, so, msg.OpScale, scaled(0, 1))
	e.never(t, "an HPA exists with DisableHPA", 3*time.Second, func(ctx context.Context) bool {
		var l autoscalingv2.HorizontalPodAutoscalerList
		return e.client.List(ctx, &l, client.InNamespace(ns)) == nil && len(l.Items) > 0
	})
	if got := e.actions.match(ns, so.Name, msg.OpHPACreate); len(got) > 0 {
		t.Errorf("hpa-create actions %v with DisableHPA", got)
	}
}
