package validate

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

// ScaledJob returns every reason sj cannot be admitted; auth is as in Facts.Auth.
func ScaledJob(sj *v1alpha1.ScaledJob, auth map[AuthRef][]string, reg *trigger.Registry) field.ErrorList {
	spec := field.NewPath("spec")
	errs := nameTooLong(sj.Name, field.NewPath("metadata", "name"))
	if sj.Spec.JobTargetRef == nil {
		errs = append(errs, field.Required(spec.Child("jobTargetRef"), "a ScaledJob needs a Job template"))
	}
	_, terrs := triggers(sj.Spec.Triggers, auth, reg, spec.Child("triggers"))
	errs = append(errs, terrs...)
	if p := sj.Spec.ScalingStrategy.CustomScalingRunningJobPercentage; p != "" {
		if v, err := strconv.ParseFloat(p, 64); err != nil || v < 0 {
			errs = append(errs, field.Invalid(spec.Child("scalingStrategy", "customScalingRunningJobPercentage"), p,
				"must be a non-negative decimal number such as 0.5"))
		}
	}
	return errs
}
