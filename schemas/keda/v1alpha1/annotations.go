package v1alpha1

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ScalingAnnotations are what an object's annotations say about how it scales.
// +kubebuilder:object:generate=false
type ScalingAnnotations struct {
	// PausedReplicas holds the target at this count while set.
	PausedReplicas *int32
	Paused         bool
	PausedScaleIn  bool
	PausedScaleOut bool
	// ForceActivation treats the object as active whatever its triggers read.
	ForceActivation bool
	// FastScaleUp is on unless the annotation says "false".
	FastScaleUp bool
}

// ParseScalingAnnotations reads the annotations that change scaling. A value that is not a
// boolean (or, for paused-replicas, a count) is an error naming the annotation rather than
// ignored: the webhook rejects it, and the decider reports it instead of guessing.
func ParseScalingAnnotations(a map[string]string) (ScalingAnnotations, field.ErrorList) {
	root := field.NewPath("metadata", "annotations")
	var errs field.ErrorList
	flag := func(key string, absent bool) bool {
		v, ok := a[key]
		if !ok {
			return absent
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, field.Invalid(root.Key(key), v, "must be true or false"))
			return absent
		}
		return b
	}
	s := ScalingAnnotations{
		Paused:          flag(PausedAnnotation, false),
		PausedScaleIn:   flag(PausedScaleInAnnotation, false),
		PausedScaleOut:  flag(PausedScaleOutAnnotation, false),
		ForceActivation: flag(ForceActivationAnnotation, false),
		FastScaleUp:     flag(FastScaleUpAnnotation, true),
	}
	if v, ok := a[PausedReplicasAnnotation]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			errs = append(errs, field.Invalid(root.Key(PausedReplicasAnnotation), v, "must be a replica count"))
		} else {
			count := int32(n)
			s.PausedReplicas = &count
		}
	}
	return s, errs
}
