package actuator

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/actuator"
)

// takeover bounds how long a standby may take to apply a decision once the leader stopped.
const takeover = 10 * time.Second

func TestLeaderFailover(t *testing.T) {
	e := start(t, false)
	stops := map[string]func(){}
	for _, id := range []string{"a", "b"} {
		stops[id] = e.runActuator(t, e.config(id))
	}
	leader := e.leader(t, "")
	standby := map[string]string{"a": "b", "b": "a"}[leader]

	ns := e.namespace(t, "failover")
	dep := deployment(ns, "consumer", 0)
	so := scaledObject(ns, "consumer", &v1alpha1.ScaleTarget{Name: "consumer"})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonActivate, true, 0, 1
	})
	e.replicas(t, dep, 1)
	e.actions.wait(t, so, msg.OpScale, scaled(0, 1))

	stops[leader]()
	stopped := time.Now()
	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonDeactivate, false, 1, 0
	})
	eventually(t, "the standby scales to 0", takeover, func(ctx context.Context) (bool, error) {
		n, err := e.specReplicas(ctx, dep)
		return err == nil && n == 0, err
	})
	t.Logf("standby applied the next decision %s after the leader stopped", time.Since(stopped).Round(time.Millisecond))
	e.actions.wait(t, so, msg.OpScale, scaled(1, 0))
	if got := e.leader(t, leader); got != standby {
		t.Errorf("Lease holder after failover = %q, want %q", got, standby)
	}
}

// leader waits until the actuators' Lease has a holder other than not, and returns it.
func (e *env) leader(t *testing.T, not string) string {
	t.Helper()
	var holder string
	eventually(t, "a leader", takeover, func(ctx context.Context) (bool, error) {
		var lease coordinationv1.Lease
		err := e.client.Get(ctx, client.ObjectKey{Namespace: leaseNamespace, Name: actuator.DefaultLeaseName}, &lease)
		if err != nil || lease.Spec.HolderIdentity == nil {
			return false, client.IgnoreNotFound(err)
		}
		holder = *lease.Spec.HolderIdentity
		return holder != "" && holder != not, nil
	})
	return holder
}
