package actuator

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/scale"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/actuator"
	"ebb.dev/services/actuator/controller"
	"ebb.dev/services/actuator/controller/scaledobject"
	"ebb.dev/services/actuator/hpa"
	"ebb.dev/services/actuator/status"
	"ebb.dev/services/actuator/target"
)

func TestScaledObject(t *testing.T) {
	e := start(t, true)
	il := &interloper{hooks: map[string]func(){}, conflicts: map[string]int{}}
	e.runActuator(t, e.config("solo"), actuator.WithScales(il.wrap))

	t.Run("the HPA is created, left alone while unchanged, updated and deleted", func(t *testing.T) { testHPALifecycle(t, e) })
	t.Run("0 to 1 and back to 0 through the scale subresource", func(t *testing.T) { testActivation(t, e) })
	t.Run("failing scalers and fallback are reported", func(t *testing.T) { testHealth(t, e) })
	t.Run("the original replica count is recorded and restored on delete", func(t *testing.T) { testRestore(t, e) })
	t.Run("paused-replicas, paused and unpause", func(t *testing.T) { testPause(t, e) })
	t.Run("a foreign HPA is adopted only with the transfer annotation", func(t *testing.T) { testAdopt(t, e) })
	t.Run("a change between read and write is not overwritten", func(t *testing.T) { testConflict(t, e, il) })
}

func testHPALifecycle(t *testing.T, e *env) {
	ns := e.namespace(t, "hpa")
	dep := deployment(ns, "consumer", 2)
	so := scaledObject(ns, "orders", &v1alpha1.ScaleTarget{Name: "consumer"})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.actions.wait(t, so, msg.OpHPACreate, ok)
	e.event(t, so, controller.EventHPACreated)

	if !slices.Contains(so.Finalizers, scaledobject.Finalizer) || so.Labels[v1alpha1.ScaledObjectNameLabel] != "orders" {
		t.Errorf("finalizers %v, labels %v: want %s and %s=orders", so.Finalizers, so.Labels, scaledobject.Finalizer, v1alpha1.ScaledObjectNameLabel)
	}
	wantStatus := v1alpha1.ScaledObjectStatus{
		ScaleTargetKind:      "apps/v1.Deployment",
		ScaleTargetGVKR:      &v1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments"},
		OriginalReplicaCount: new(int32(2)),
		HPAName:              "keda-hpa-orders",
		ExternalMetricNames:  []string{"s0-rabbitmq-orders"},
		TriggersTypes:        new("rabbitmq"),
	}
	got := so.Status
	got.Conditions = nil
	if diff := cmp.Diff(wantStatus, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	h := e.hpa(t, ns, "keda-hpa-orders")
	desired, err := hpa.Desired(so, trigger.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if hpa.Differs(h, desired) {
		t.Errorf("HPA in the cluster differs from hpa.Desired:\n%s", cmp.Diff(hpa.Defaulted(desired.Spec), hpa.Defaulted(h.Spec)))
	}

	// A behavior the server fills with defaults must not be rewritten on every reconcile.
	e.update(t, so, func() { so.Annotations = map[string]string{v1alpha1.PausedScaleInAnnotation: "true"} })
	e.actions.wait(t, so, msg.OpHPAUpdate, ok)
	h = e.hpa(t, ns, "keda-hpa-orders")
	if sp := h.Spec.Behavior.ScaleDown.SelectPolicy; sp == nil || *sp != autoscalingv2.DisabledPolicySelect {
		t.Errorf("paused-scale-in: scaleDown.selectPolicy = %v, want Disabled", sp)
	}
	e.update(t, so, func() { so.Spec.Triggers[0].AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "rabbit-auth"} })
	e.actions.wait(t, so, msg.OpStatus, func(a msg.Action) bool { return a.Object.Generation == so.Generation })
	if n := len(e.actions.match(ns, so.Name, msg.OpHPAUpdate)); n != 1 {
		t.Errorf("%d hpa-update actions after a reconcile that changed nothing in the HPA, want 1", n)
	}
	if again := e.hpa(t, ns, "keda-hpa-orders"); again.ResourceVersion != h.ResourceVersion {
		t.Errorf("HPA rewritten (resourceVersion %s -> %s) though nothing in it changed", h.ResourceVersion, again.ResourceVersion)
	}

	e.update(t, so, func() { so.Spec.MaxReplicaCount = new(int32(5)) })
	e.actions.wait(t, so, msg.OpHPAUpdate, func(a msg.Action) bool { return ok(a) && *a.From == 10 && *a.To == 5 })
	if h := e.hpa(t, ns, "keda-hpa-orders"); h.Spec.MaxReplicas != 5 {
		t.Errorf("HPA maxReplicas = %d, want 5", h.Spec.MaxReplicas)
	}

	if err := e.client.Delete(t.Context(), so); err != nil {
		t.Fatal(err)
	}
	e.gone(t, so)
	e.gone(t, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keda-hpa-orders"}})
	e.actions.wait(t, so, msg.OpHPADelete, ok)
	if n, _ := e.specReplicas(t.Context(), dep); n != 2 {
		t.Errorf("without restoreToOriginalReplicaCount the target went from 2 to %d replicas", n)
	}
}

func testActivation(t *testing.T, e *env) {
	ns := e.namespace(t, "activation")
	// A kind installed after the actuator started: found through the RESTMapper on first use.
	e.installWidgets(t)
	tests := map[string]struct {
		target   client.Object
		ref      *v1alpha1.ScaleTarget
		wantKind string
	}{
		"Deployment":  {target: deployment(ns, "web", 0), ref: &v1alpha1.ScaleTarget{Name: "web"}, wantKind: "Deployment"},
		"StatefulSet": {target: statefulSet(ns, "db", 0), ref: &v1alpha1.ScaleTarget{Name: "db", APIVersion: "apps/v1", Kind: "StatefulSet"}, wantKind: "StatefulSet"},
		"Widget, a custom resource with /scale": {
			target: widget(ns, "gadget", 0), ref: &v1alpha1.ScaleTarget{Name: "gadget", APIVersion: "example.com/v1", Kind: "Widget"}, wantKind: "Widget",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			so := scaledObject(ns, tc.ref.Name, tc.ref)
			e.create(t, tc.target, so)
			e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
			if so.Status.ScaleTargetGVKR.Kind != tc.wantKind || *so.Status.OriginalReplicaCount != 0 {
				t.Errorf("status target %+v, original %d: want kind %s and 0", so.Status.ScaleTargetGVKR, *so.Status.OriginalReplicaCount, tc.wantKind)
			}

			on := e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
				d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonActivate, true, 0, 1
			})
			e.replicas(t, tc.target, 1)
			a := e.actions.wait(t, so, msg.OpScale, scaled(0, 1))
			if a.Decision == nil || !a.Decision.DecidedAt.Equal(on.DecidedAt) || a.Decision.Reason != msg.ReasonActivate {
				t.Errorf("scale action's decision = %+v, want the activate decision of %s", a.Decision, on.DecidedAt)
			}
			e.condition(t, so, v1alpha1.ConditionActive, metav1.ConditionTrue)
			e.event(t, so, controller.EventActivated)

			off := e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
				d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonDeactivate, false, 1, 0
			})
			e.replicas(t, tc.target, 0)
			e.actions.wait(t, so, msg.OpScale, scaled(1, 0))
			e.condition(t, so, v1alpha1.ConditionActive, metav1.ConditionFalse)
			e.event(t, so, controller.EventDeactivated)
			if got, want := so.Status.LastActiveTime, on.DecidedAt.Truncate(time.Second); got == nil || !got.Time.Equal(want) {
				t.Errorf("lastActiveTime = %v, want the last active decision's time %v (deactivated at %v)", got, want, off.DecidedAt)
			}
		})
	}
}

func testHealth(t *testing.T, e *env) {
	ns := e.namespace(t, "health")
	dep := deployment(ns, "worker", 1)
	so := scaledObject(ns, "worker", &v1alpha1.ScaleTarget{Name: "worker"}, func(so *v1alpha1.ScaledObject) {
		so.Spec.Fallback = &v1alpha1.Fallback{FailureThreshold: 2, Replicas: 4}
	})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonFallback, true, 1, 4
		d.Metrics = []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: 20, Fallback: true, Failures: 3, Error: "connection refused"}}
	})
	e.condition(t, so, v1alpha1.ConditionFallback, metav1.ConditionTrue)
	want := map[string]v1alpha1.HealthStatus{"s0-rabbitmq-orders": {NumberOfFailures: new(int32(3)), Status: v1alpha1.HealthStatusFailing}}
	if diff := cmp.Diff(want, so.Status.Health); diff != "" {
		t.Errorf("health (-want +got):\n%s", diff)
	}
	e.event(t, so, controller.EventScalerFailed)
	e.event(t, so, controller.EventFallback)
	e.actions.wait(t, so, msg.OpStatus, func(a msg.Action) bool { return ok(a) && a.Decision != nil && a.Decision.Reason == msg.ReasonFallback })

	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonHPA, true, 1, 2
		d.Metrics = []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: 8}}
	})
	e.condition(t, so, v1alpha1.ConditionFallback, metav1.ConditionFalse)
	if h := so.Status.Health["s0-rabbitmq-orders"]; h.Status != v1alpha1.HealthStatusHappy || *h.NumberOfFailures != 0 {
		t.Errorf("health after recovery = %+v, want Happy with 0 failures", h)
	}
	if n, _ := e.specReplicas(t.Context(), dep); n != 1 {
		t.Errorf("a decision inside the HPA's range changed the target to %d replicas, want it left at 1", n)
	}
}

func testRestore(t *testing.T, e *env) {
	ns := e.namespace(t, "restore")
	dep := deployment(ns, "api", 3)
	so := scaledObject(ns, "api", &v1alpha1.ScaleTarget{Name: "api"}, func(so *v1alpha1.ScaledObject) {
		so.Spec.Advanced = &v1alpha1.AdvancedConfig{RestoreToOriginalReplicaCount: true}
	})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	if so.Status.OriginalReplicaCount == nil || *so.Status.OriginalReplicaCount != 3 {
		t.Fatalf("originalReplicaCount = %v, want 3", so.Status.OriginalReplicaCount)
	}
	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonDeactivate, false, 3, 0
	})
	e.replicas(t, dep, 0)
	e.actions.wait(t, so, msg.OpScale, scaled(3, 0))
	if err := e.client.Delete(t.Context(), so); err != nil {
		t.Fatal(err)
	}
	e.gone(t, so)
	e.replicas(t, dep, 3)
	e.actions.wait(t, so, msg.OpScale, scaled(0, 3))
	e.gone(t, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keda-hpa-api"}})
}

func testPause(t *testing.T, e *env) {
	ns := e.namespace(t, "pause")
	dep := deployment(ns, "batch", 1)
	so := scaledObject(ns, "batch", &v1alpha1.ScaleTarget{Name: "batch"})
	e.create(t, dep, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.hpa(t, ns, "keda-hpa-batch")

	e.update(t, so, func() { so.Annotations = map[string]string{v1alpha1.PausedReplicasAnnotation: "2"} })
	e.replicas(t, dep, 2)
	e.gone(t, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keda-hpa-batch"}})
	e.actions.wait(t, so, msg.OpHPADelete, ok)
	e.actions.wait(t, so, msg.OpScale, scaled(1, 2))
	e.condition(t, so, v1alpha1.ConditionPaused, metav1.ConditionTrue)
	if so.Status.PausedReplicaCount == nil || *so.Status.PausedReplicaCount != 2 {
		t.Errorf("pausedReplicaCount = %v, want 2", so.Status.PausedReplicaCount)
	}

	e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
		d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonDeactivate, false, 2, 0
	})
	e.never(t, "a paused target is scaled by a decision", 2*time.Second, func(ctx context.Context) bool {
		n, err := e.specReplicas(ctx, dep)
		return err == nil && n != 2
	})

	e.update(t, so, func() { so.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"} })
	eventually(t, "pausedReplicaCount cleared while paused", 20*time.Second, func(ctx context.Context) (bool, error) {
		err := e.client.Get(ctx, client.ObjectKeyFromObject(so), so)
		c, _ := so.Status.Conditions.Get(v1alpha1.ConditionPaused)
		return err == nil && so.Status.PausedReplicaCount == nil && c.Status == metav1.ConditionTrue, err
	})
	if err := e.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "keda-hpa-batch"}, &autoscalingv2.HorizontalPodAutoscaler{}); !apierrors.IsNotFound(err) {
		t.Errorf("HPA while paused: %v, want not found", err)
	}

	e.update(t, so, func() { so.Annotations = nil })
	e.hpa(t, ns, "keda-hpa-batch")
	e.condition(t, so, v1alpha1.ConditionPaused, metav1.ConditionFalse)
	if n := len(e.actions.match(ns, so.Name, msg.OpHPACreate)); n != 2 {
		t.Errorf("%d hpa-create actions, want 2 (before the pause and after it)", n)
	}
	if n, _ := e.specReplicas(t.Context(), dep); n != 2 {
		t.Errorf("unpausing moved the target to %d replicas, want it held at 2", n)
	}
}

func testAdopt(t *testing.T, e *env) {
	ns := e.namespace(t, "adopt")
	dep := deployment(ns, "legacy", 1)
	foreign := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-hpa", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "legacy"},
			MinReplicas:    new(int32(1)), MaxReplicas: 3,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(50))}}}},
		},
	}
	so := scaledObject(ns, "legacy", &v1alpha1.ScaleTarget{Name: "legacy"}, func(so *v1alpha1.ScaledObject) {
		so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "legacy-hpa"}}
	})
	e.create(t, dep, foreign, so)
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionFalse)
	if c, _ := so.Status.Conditions.Get(v1alpha1.ConditionReady); c.Reason != status.ReasonHPAOwnedByOther {
		t.Errorf("Ready reason = %q, want %q", c.Reason, status.ReasonHPAOwnedByOther)
	}
	if h := e.hpa(t, ns, "legacy-hpa"); h.Spec.MaxReplicas != 3 || len(h.OwnerReferences) != 0 {
		t.Errorf("foreign HPA touched without the transfer annotation: max %d, owners %v", h.Spec.MaxReplicas, h.OwnerReferences)
	}

	e.update(t, so, func() { so.Annotations = map[string]string{v1alpha1.TransferHPAOwnershipAnnotation: "true"} })
	e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
	e.actions.wait(t, so, msg.OpHPAUpdate, func(a msg.Action) bool { return ok(a) && *a.From == 3 && *a.To == 10 })
	h := e.hpa(t, ns, "legacy-hpa")
	if owner := metav1.GetControllerOf(h); owner == nil || owner.UID != so.UID || h.Spec.MaxReplicas != 10 || h.Spec.Metrics[0].External == nil {
		t.Errorf("adopted HPA: owner %v, max %d, metrics %+v: want the ScaledObject, 10 and its external metric", owner, h.Spec.MaxReplicas, h.Spec.Metrics)
	}
}

func testConflict(t *testing.T, e *env, il *interloper) {
	ns := e.namespace(t, "conflict")
	tests := map[string]struct {
		name         string
		interfere    func(*appsv1.Deployment)
		wantReplicas int32
		wantScale    bool
	}{
		"a label changed: the write is retried on fresh data and lands": {
			name:         "relabelled",
			interfere:    func(d *appsv1.Deployment) { d.Labels = map[string]string{"touched": "yes"} },
			wantReplicas: 1, wantScale: true,
		},
		"scaled to 3 by someone else: the activation no longer applies": {
			name:         "rescaled",
			interfere:    func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(3)) },
			wantReplicas: 3,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dep := deployment(ns, tc.name, 0)
			so := scaledObject(ns, tc.name, &v1alpha1.ScaleTarget{Name: tc.name})
			e.create(t, dep, so)
			e.condition(t, so, v1alpha1.ConditionReady, metav1.ConditionTrue)
			hookErr := make(chan error, 1)
			il.arm(ns+"/"+tc.name, func() {
				// Someone else writes the Deployment after the actuator read its scale.
				cur := &appsv1.Deployment{}
				err := e.client.Get(context.Background(), client.ObjectKeyFromObject(dep), cur)
				if err == nil {
					tc.interfere(cur)
					err = e.client.Update(context.Background(), cur)
				}
				hookErr <- err
			})
			e.decide(t, so, msg.ScaledObject, func(d *msg.Decision) {
				d.Reason, d.Active, d.CurrentReplicas, d.DesiredReplicas = msg.ReasonActivate, true, 0, 1
			})
			e.condition(t, so, v1alpha1.ConditionActive, metav1.ConditionTrue)
			select {
			case err := <-hookErr:
				if err != nil {
					t.Fatalf("interfering write: %v", err)
				}
			default:
				t.Fatal("the actuator never wrote the scale, so nothing could interfere")
			}
			if n := il.conflictCount(ns + "/" + tc.name); n != 1 {
				t.Errorf("%d conflicting scale writes, want 1", n)
			}
			if n, err := e.specReplicas(t.Context(), dep); err != nil || n != tc.wantReplicas {
				t.Errorf("replicas = %d (%v), want %d", n, err, tc.wantReplicas)
			}
			scales := e.actions.match(ns, so.Name, msg.OpScale)
			if got := len(scales) == 1 && ok(scales[0]) && *scales[0].To == 1; got != tc.wantScale {
				t.Errorf("scale actions %+v, want one to 1 replica: %v", scales, tc.wantScale)
			}
		})
	}
}

func (e *env) hpa(t *testing.T, ns, name string) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	eventually(t, "HPA "+name, 20*time.Second, func(ctx context.Context) (bool, error) {
		err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, h)
		return err == nil, client.IgnoreNotFound(err)
	})
	return h
}

// gone waits until obj no longer exists.
func (e *env) gone(t *testing.T, obj client.Object) {
	t.Helper()
	eventually(t, obj.GetName()+" gone", 20*time.Second, func(ctx context.Context) (bool, error) {
		err := e.client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// never fails the test (and returns) if cond holds at any poll within d.
func (e *env) never(t *testing.T, what string, d time.Duration, cond func(context.Context) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for ctx.Err() == nil {
		if cond(ctx) {
			t.Errorf("%s", what)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// interloper wraps the actuator's scale client. For an armed target it runs a hook once just
// before forwarding the actuator's write, so the write carries a stale resourceVersion; it
// counts the conflicts the API server answers.
type interloper struct {
	inner     target.Scales
	mu        sync.Mutex
	hooks     map[string]func()
	conflicts map[string]int
}

func (il *interloper) wrap(s target.Scales) target.Scales { il.inner = s; return il }

func (il *interloper) arm(key string, hook func()) {
	il.mu.Lock()
	defer il.mu.Unlock()
	il.hooks[key] = hook
}

func (il *interloper) conflictCount(key string) int {
	il.mu.Lock()
	defer il.mu.Unlock()
	return il.conflicts[key]
}

func (il *interloper) Scales(namespace string) scale.ScaleInterface {
	return interloperScales{ScaleInterface: il.inner.Scales(namespace), il: il, namespace: namespace}
}

type interloperScales struct {
	scale.ScaleInterface
	il        *interloper
	namespace string
}

func (s interloperScales) Update(ctx context.Context, gr schema.GroupResource, sc *autoscalingv1.Scale, opts metav1.UpdateOptions) (*autoscalingv1.Scale, error) {
	key := s.namespace + "/" + sc.Name
	s.il.mu.Lock()
	hook := s.il.hooks[key]
	delete(s.il.hooks, key)
	s.il.mu.Unlock()
	if hook != nil {
		hook()
	}
	out, err := s.ScaleInterface.Update(ctx, gr, sc, opts)
	if apierrors.IsConflict(err) {
		s.il.mu.Lock()
		s.il.conflicts[key]++
		s.il.mu.Unlock()
	}
	return out, err
}
