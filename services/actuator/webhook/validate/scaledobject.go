package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// ScaledObject returns every reason so cannot be admitted, given the cluster facts.
func ScaledObject(so *v1alpha1.ScaledObject, f Facts, reg *trigger.Registry) field.ErrorList {
	spec := field.NewPath("spec")
	errs := nameTooLong(so.Name, field.NewPath("metadata", "name"))
	if hpa := v1alpha1.HPAName(so); len(hpa) > v1alpha1.MaxNameLength {
		errs = append(errs, field.Invalid(hpaNamePath(so), hpa, "the HPA name must be no more than 63 characters"))
	}
	errs = append(errs, bounds(so, spec)...)
	ts, terrs := triggers(so.Spec.Triggers, f.Auth, reg, spec.Child("triggers"))
	errs = append(errs, terrs...)
	errs = append(errs, modifiers(so, spec.Child("advanced", "scalingModifiers"))...)
	errs = append(errs, fallback(so, spec)...)
	errs = append(errs, onlyResources(so, spec)...)
	errs = append(errs, workload(so, f, spec)...)
	errs = append(errs, requests(ts, f, spec.Child("triggers"))...)
	errs = append(errs, ebbAnnotations(so.Annotations)...)
	return errs
}

// ebbAnnotations rejects a malformed value of ebb's own annotations. KEDA's are left to the
// decider, which reports them on the object: KEDA admits them, and its manifests must apply.
func ebbAnnotations(a map[string]string) field.ErrorList {
	_, errs := v1alpha1.ParseScalingAnnotations(a)
	own := field.NewPath("metadata", "annotations").Key(v1alpha1.FastScaleUpAnnotation).String()
	return slices.DeleteFunc(errs, func(e *field.Error) bool { return e.Field != own })
}

func value(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// bounds repeats the CRD's CEL rules, so objects that skipped the schema (tests, dry runs
// against an older CRD) get the same answer.
func bounds(so *v1alpha1.ScaledObject, spec *field.Path) field.ErrorList {
	minR := value(so.Spec.MinReplicaCount, v1alpha1.DefaultMinReplicaCount)
	maxR := value(so.Spec.MaxReplicaCount, v1alpha1.DefaultMaxReplicaCount)
	var errs field.ErrorList
	if minR > maxR {
		errs = append(errs, field.Invalid(spec.Child("minReplicaCount"), minR,
			fmt.Sprintf("must be less than or equal to maxReplicaCount (%d)", maxR)))
	}
	if idle := so.Spec.IdleReplicaCount; idle != nil && *idle >= minR {
		errs = append(errs, field.Invalid(spec.Child("idleReplicaCount"), *idle,
			fmt.Sprintf("must be less than minReplicaCount (%d)", minR)))
	}
	return errs
}

func hpaNamePath(so *v1alpha1.ScaledObject) *field.Path {
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
		return field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "name")
	}
	return field.NewPath("metadata", "name")
}

// modifiers checks the composite metric: a formula expr-lang compiles over the named triggers
// and a positive target.
func modifiers(so *v1alpha1.ScaledObject, path *field.Path) field.ErrorList {
	if so.Spec.Advanced == nil || so.Spec.Advanced.ScalingModifiers == nil {
		return nil
	}
	sm := so.Spec.Advanced.ScalingModifiers
	var errs field.ErrorList
	if sm.Target == "" {
		errs = append(errs, field.Required(path.Child("target"), "scalingModifiers needs a target"))
	} else if t, err := strconv.ParseFloat(sm.Target, 64); err != nil || t <= 0 {
		errs = append(errs, field.Invalid(path.Child("target"), sm.Target, "must be a positive number"))
	}
	if sm.ActivationTarget != "" {
		if _, err := strconv.ParseFloat(sm.ActivationTarget, 64); err != nil {
			errs = append(errs, field.Invalid(path.Child("activationTarget"), sm.ActivationTarget, "must be a number"))
		}
	}
	if sm.Formula == "" {
		return append(errs, field.Required(path.Child("formula"), "scalingModifiers needs a formula"))
	}
	env := map[string]float64{}
	for _, t := range so.Spec.Triggers {
		if t.Name != "" {
			env[t.Name] = 0
		}
	}
	if _, err := expr.Compile(sm.Formula, expr.Env(env), expr.AsFloat64()); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		errs = append(errs, field.Invalid(path.Child("formula"), sm.Formula, "does not compile: "+first))
	}
	return errs
}

// fallback needs a metric it can stand in for: an AverageValue one, as KEDA requires.
func fallback(so *v1alpha1.ScaledObject, spec *field.Path) field.ErrorList {
	if so.Spec.Fallback == nil {
		return nil
	}
	if a := so.Spec.Advanced; a != nil && a.ScalingModifiers != nil {
		if a.ScalingModifiers.MetricType == autoscalingv2.ValueMetricType {
			return field.ErrorList{field.Invalid(spec.Child("advanced", "scalingModifiers", "metricType"), "Value",
				"must be AverageValue when fallback is set")}
		}
		return nil
	}
	for _, t := range so.Spec.Triggers {
		if !resourceType(t.Type) && (t.MetricType == "" || t.MetricType == autoscalingv2.AverageValueMetricType) {
			return nil
		}
	}
	return field.ErrorList{field.Forbidden(spec.Child("fallback"),
		"needs at least one trigger other than cpu or memory with metricType AverageValue")}
}

func resourceType(kind string) bool { return kind == "cpu" || kind == "memory" }

// onlyResources rejects min 0 when nothing but cpu/memory triggers exist: the HPA they feed
// cannot bring a workload back from zero.
func onlyResources(so *v1alpha1.ScaledObject, spec *field.Path) field.ErrorList {
	if len(so.Spec.Triggers) == 0 || value(so.Spec.MinReplicaCount, 0) > 0 {
		return nil
	}
	for _, t := range so.Spec.Triggers {
		if !resourceType(t.Type) {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(spec.Child("minReplicaCount"), 0,
		"must be at least 1 when every trigger is cpu or memory (they cannot scale from zero)")}
}

// targetKey identifies a workload by API group, kind and name, ignoring the version.
type targetKey struct {
	group, kind, name string
}

func keyOf(apiVersion, kind, name string) targetKey {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	if apiVersion == "" {
		gv.Group = "apps"
	}
	if kind == "" {
		kind = v1alpha1.DefaultScaleTargetKind
	}
	return targetKey{gv.Group, kind, name}
}

func soTarget(so *v1alpha1.ScaledObject) targetKey {
	if so.Spec.ScaleTargetRef == nil {
		return targetKey{}
	}
	r := so.Spec.ScaleTargetRef
	return keyOf(r.APIVersion, r.Kind, r.Name)
}

// workload checks that nothing else scales the target and that the HPA name is free.
func workload(so *v1alpha1.ScaledObject, f Facts, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	target := soTarget(so)
	hpaName := v1alpha1.HPAName(so)
	targetPath := spec.Child("scaleTargetRef", "name")
	for _, other := range f.ScaledObjects {
		if other.Name == so.Name {
			continue
		}
		if soTarget(&other) == target {
			errs = append(errs, field.Invalid(targetPath, target.name,
				fmt.Sprintf("%s %s is already scaled by ScaledObject %s", target.kind, target.name, other.Name)))
		}
		if v1alpha1.HPAName(&other) == hpaName {
			errs = append(errs, field.Invalid(hpaNamePath(so), hpaName,
				fmt.Sprintf("HPA name %s is already used by ScaledObject %s", hpaName, other.Name)))
		}
	}
	checkOwnership := so.Annotations[v1alpha1.HPAOwnershipValidationAnnotation] != "false"
	transfer := so.Annotations[v1alpha1.TransferHPAOwnershipAnnotation] == "true"
	for _, hpa := range f.HPAs {
		if ownedBy(&hpa, so.Name) || (transfer && hpa.Name == hpaName) {
			continue
		}
		ref := hpa.Spec.ScaleTargetRef
		switch {
		case keyOf(ref.APIVersion, ref.Kind, ref.Name) == target:
			if checkOwnership {
				errs = append(errs, field.Invalid(targetPath, target.name,
					fmt.Sprintf("%s %s is already scaled by HPA %s, which this ScaledObject does not own (annotate %s=true to take it over)",
						target.kind, target.name, hpa.Name, v1alpha1.TransferHPAOwnershipAnnotation)))
			}
		case hpa.Name == hpaName:
			errs = append(errs, field.Invalid(hpaNamePath(so), hpaName,
				fmt.Sprintf("HPA %s already exists and scales %s %s", hpaName, ref.Kind, ref.Name)))
		}
	}
	return errs
}

// ownedBy reports whether ebb manages hpa for the ScaledObject named so.
func ownedBy(hpa *autoscalingv2.HorizontalPodAutoscaler, so string) bool {
	for _, o := range hpa.OwnerReferences {
		if o.Kind == v1alpha1.KindScaledObject && o.Name == so {
			return true
		}
	}
	return false
}

// requests checks that every container a cpu/memory trigger measures requests that resource:
// the HPA computes utilization against requests and reports nothing without them.
func requests(ts []parsed, f Facts, path *field.Path) field.ErrorList {
	if f.PodSpec == nil {
		return nil
	}
	var errs field.ErrorList
	for _, t := range ts {
		rm, ok := t.meta.(trigger.ResourceMetric)
		if !ok {
			continue
		}
		res := rm.ResourceName()
		only := rm.TargetContainer()
		found := false
		for _, c := range f.PodSpec.Containers {
			if only != "" && c.Name != only {
				continue
			}
			found = true
			if !hasRequest(c, res, f.LimitRanges) {
				errs = append(errs, field.Forbidden(path.Index(t.index),
					fmt.Sprintf("container %s of the scale target has no %s request (set resources.requests.%s or a LimitRange default)", c.Name, res, res)))
			}
		}
		if !found && only != "" {
			errs = append(errs, field.NotFound(path.Index(t.index).Child("metadata", "containerName"), only))
		}
	}
	return errs
}

// hasRequest reports whether c ends up with a request for res: its own request, its limit
// (which the API server copies into a missing request) or a LimitRange container default.
func hasRequest(c corev1.Container, res corev1.ResourceName, limitRanges []corev1.LimitRange) bool {
	if _, ok := c.Resources.Requests[res]; ok {
		return true
	}
	if _, ok := c.Resources.Limits[res]; ok {
		return true
	}
	for _, lr := range limitRanges {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			if _, ok := item.DefaultRequest[res]; ok {
				return true
			}
			if _, ok := item.Default[res]; ok {
				return true
			}
		}
	}
	return false
}
