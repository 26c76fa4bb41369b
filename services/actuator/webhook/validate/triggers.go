package validate

import (
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// parsed is one trigger that passed its metadata parser.
type parsed struct {
	index int
	meta  trigger.Metadata
}

// noCachedMetrics are the trigger types whose value the HPA cannot be served from a cache:
// cpu and memory never reach ebb, cron is computed from the clock.
var noCachedMetrics = sets.New("cpu", "memory", "cron")

// triggers checks a trigger list and parses every trigger with the registry the poller uses.
// At admission the environment and the authentication's values are unknown, so a parameter
// they could supply counts as set (trigger.Params.Unresolved).
func triggers(ts []v1alpha1.ScaleTriggers, auth map[AuthRef][]string, reg *trigger.Registry, path *field.Path) ([]parsed, field.ErrorList) {
	var errs field.ErrorList
	var ok []parsed
	names := sets.New[string]()
	for i, t := range ts {
		at := path.Index(i)
		if t.Name != "" {
			if names.Has(t.Name) {
				errs = append(errs, field.Duplicate(at.Child("name"), t.Name))
			}
			names.Insert(t.Name)
		}
		if t.UseCachedMetrics && noCachedMetrics.Has(t.Type) {
			errs = append(errs, field.Invalid(at.Child("useCachedMetrics"), true, "is not supported for "+t.Type+" triggers"))
		}
		params := trigger.Params{Metadata: t.Metadata, MetricType: t.MetricType, Unresolved: true, Auth: map[string]string{}}
		if ref := t.AuthenticationRef; ref != nil {
			kind := v1alpha1.AuthenticationKind(ref)
			if kind != v1alpha1.KindTriggerAuthentication && kind != v1alpha1.KindClusterTriggerAuthentication {
				errs = append(errs, field.NotSupported(at.Child("authenticationRef", "kind"), kind,
					[]string{v1alpha1.KindTriggerAuthentication, v1alpha1.KindClusterTriggerAuthentication}))
				continue
			}
			params.Auth = authParams(auth, RefOf(ref))
		}
		m, perrs := reg.Parse(t.Type, params, at)
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		ok = append(ok, parsed{index: i, meta: m})
	}
	return ok, errs
}

// authParams is the parameter set of ref as Params.Auth wants it: nil when unknown.
func authParams(auth map[AuthRef][]string, ref AuthRef) map[string]string {
	names, found := auth[ref]
	if !found {
		return nil
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = ""
	}
	return out
}

// nameTooLong reports a name that cannot be a label value (the owner labels carry it).
func nameTooLong(name string, path *field.Path) field.ErrorList {
	if len(name) > v1alpha1.MaxNameLength {
		return field.ErrorList{field.Invalid(path, name, "must be no more than 63 characters")}
	}
	return nil
}
