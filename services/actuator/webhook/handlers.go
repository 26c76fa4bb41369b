package webhook

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/services/actuator/webhook/validate"
)

// The webhook configuration controller-gen writes to deploy/kustomize/base/webhook. Fail
// closed: an object the webhook never saw could carry metadata the poller rejects.
//
// +kubebuilder:webhook:path=/validate-keda-sh-v1alpha1-scaledobject,mutating=false,failurePolicy=fail,sideEffects=None,groups=keda.sh,resources=scaledobjects,verbs=create;update,versions=v1alpha1,name=vscaledobject.keda.sh,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-keda-sh-v1alpha1-scaledjob,mutating=false,failurePolicy=fail,sideEffects=None,groups=keda.sh,resources=scaledjobs,verbs=create;update,versions=v1alpha1,name=vscaledjob.keda.sh,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-keda-sh-v1alpha1-triggerauthentication,mutating=false,failurePolicy=fail,sideEffects=None,groups=keda.sh,resources=triggerauthentications,verbs=create;update,versions=v1alpha1,name=vtriggerauthentication.keda.sh,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-keda-sh-v1alpha1-clustertriggerauthentication,mutating=false,failurePolicy=fail,sideEffects=None,groups=keda.sh,resources=clustertriggerauthentications,verbs=create;update,versions=v1alpha1,name=vclustertriggerauthentication.keda.sh,admissionReviewVersions=v1,timeoutSeconds=10

// What the handlers read; the actuator's role must grant it.
//
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=list
// +kubebuilder:rbac:groups=keda.sh,resources=triggerauthentications;clustertriggerauthentications,verbs=get
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=list
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get
// +kubebuilder:rbac:groups="",resources=limitranges,verbs=list
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;update

// verdict turns validation errors into one admission answer, one line per error joined by "; ".
func verdict(errs field.ErrorList) admission.Response {
	if len(errs) == 0 {
		return admission.Allowed("")
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return admission.Denied(strings.Join(msgs, "; "))
}

func (s *Server) scaledObject(ctx context.Context, req admission.Request) admission.Response {
	var so v1alpha1.ScaledObject
	if err := s.decoder.Decode(req, &so); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if req.Operation == admissionv1.Update {
		var old v1alpha1.ScaledObject
		if err := s.decoder.DecodeRaw(req.OldObject, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		// Metadata-only updates (finalizers, labels ebb sets) must not fail on cluster facts
		// that changed since the user applied the spec.
		if equality.Semantic.DeepEqual(old.Spec, so.Spec) && sameOwnershipAnnotations(&old, &so) {
			return admission.Allowed("")
		}
	}
	facts, err := s.scaledObjectFacts(ctx, &so)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return verdict(validate.ScaledObject(&so, facts, s.reg))
}

func sameOwnershipAnnotations(a, b *v1alpha1.ScaledObject) bool {
	for _, k := range []string{v1alpha1.HPAOwnershipValidationAnnotation, v1alpha1.TransferHPAOwnershipAnnotation} {
		if a.Annotations[k] != b.Annotations[k] {
			return false
		}
	}
	return true
}

func (s *Server) scaledJob(ctx context.Context, req admission.Request) admission.Response {
	var sj v1alpha1.ScaledJob
	if err := s.decoder.Decode(req, &sj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	auth, err := s.authFacts(ctx, sj.Namespace, sj.Spec.Triggers)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return verdict(validate.ScaledJob(&sj, auth, s.reg))
}

func (s *Server) triggerAuthentication(_ context.Context, req admission.Request) admission.Response {
	var ta v1alpha1.TriggerAuthentication
	if err := s.decoder.Decode(req, &ta); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	return verdict(validate.TriggerAuthentication(&ta.Spec))
}

func (s *Server) clusterTriggerAuthentication(_ context.Context, req admission.Request) admission.Response {
	var cta v1alpha1.ClusterTriggerAuthentication
	if err := s.decoder.Decode(req, &cta); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	return verdict(validate.TriggerAuthentication(&cta.Spec))
}

// scaledObjectFacts reads what the ScaledObject rules need from so's namespace.
func (s *Server) scaledObjectFacts(ctx context.Context, so *v1alpha1.ScaledObject) (validate.Facts, error) {
	var f validate.Facts
	in := client.InNamespace(so.Namespace)
	var sos v1alpha1.ScaledObjectList
	if err := s.client.List(ctx, &sos, in); err != nil {
		return f, fmt.Errorf("list ScaledObjects in %s: %w", so.Namespace, err)
	}
	var hpas autoscalingv2.HorizontalPodAutoscalerList
	if err := s.client.List(ctx, &hpas, in); err != nil {
		return f, fmt.Errorf("list HPAs in %s: %w", so.Namespace, err)
	}
	var lrs corev1.LimitRangeList
	if err := s.client.List(ctx, &lrs, in); err != nil {
		return f, fmt.Errorf("list LimitRanges in %s: %w", so.Namespace, err)
	}
	f.ScaledObjects, f.HPAs, f.LimitRanges = sos.Items, hpas.Items, lrs.Items
	var err error
	if f.PodSpec, err = s.targetPodSpec(ctx, so); err != nil {
		return f, err
	}
	f.Auth, err = s.authFacts(ctx, so.Namespace, so.Spec.Triggers)
	return f, err
}

// targetPodSpec reads the pod template of a Deployment or StatefulSet target; other kinds and
// targets that do not exist yet give nil, and the request check is skipped.
func (s *Server) targetPodSpec(ctx context.Context, so *v1alpha1.ScaledObject) (*corev1.PodSpec, error) {
	ref := so.Spec.ScaleTargetRef
	if ref == nil {
		return nil, nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != appsv1.GroupName {
		return nil, nil
	}
	key := client.ObjectKey{Namespace: so.Namespace, Name: ref.Name}
	var obj client.Object
	var spec *corev1.PodSpec
	switch ref.Kind {
	case "Deployment", "":
		d := &appsv1.Deployment{}
		obj, spec = d, &d.Spec.Template.Spec
	case "StatefulSet":
		st := &appsv1.StatefulSet{}
		obj, spec = st, &st.Spec.Template.Spec
	default:
		return nil, nil
	}
	if err := s.client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s %s/%s: %w", ref.Kind, so.Namespace, ref.Name, err)
	}
	return spec, nil
}

// authFacts reads the parameter names of every authentication the triggers reference; one
// that does not exist is left out, so its parameters count as unknown.
func (s *Server) authFacts(ctx context.Context, namespace string, ts []v1alpha1.ScaleTriggers) (map[validate.AuthRef][]string, error) {
	out := map[validate.AuthRef][]string{}
	for _, t := range ts {
		if t.AuthenticationRef == nil {
			continue
		}
		ref := validate.RefOf(t.AuthenticationRef)
		if _, seen := out[ref]; seen {
			continue
		}
		var spec *v1alpha1.TriggerAuthenticationSpec
		var err error
		switch ref.Kind {
		case v1alpha1.KindTriggerAuthentication:
			var ta v1alpha1.TriggerAuthentication
			err = s.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &ta)
			spec = &ta.Spec
		case v1alpha1.KindClusterTriggerAuthentication:
			var cta v1alpha1.ClusterTriggerAuthentication
			err = s.client.Get(ctx, client.ObjectKey{Name: ref.Name}, &cta)
			spec = &cta.Spec
		default:
			continue // rejected by validate
		}
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get %s %s: %w", ref.Kind, ref.Name, err)
		}
		out[ref] = validate.Parameters(spec)
	}
	return out, nil
}
