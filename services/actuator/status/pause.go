package status

import (
	"fmt"
	"strconv"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Pause is what an object's pause annotations ask for.
type Pause struct {
	Hold     bool   // paused: "true": keep the current replica count
	Replicas *int32 // paused-replicas: scale to this count and keep it
}

// Paused reports whether scaling is paused either way.
func (p Pause) Paused() bool { return p.Hold || p.Replicas != nil }

// ReadPause reads the paused and paused-replicas annotations. paused-replicas wins over
// paused; a paused-replicas value that is not a non-negative integer is an error naming it.
func ReadPause(annotations map[string]string) (Pause, error) {
	var p Pause
	if v, ok := annotations[v1alpha1.PausedReplicasAnnotation]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return Pause{}, fmt.Errorf("metadata.annotations[%s]: %q is not a non-negative integer", v1alpha1.PausedReplicasAnnotation, v)
		}
		p.Replicas = new(int32(n))
		return p, nil
	}
	p.Hold = annotations[v1alpha1.PausedAnnotation] == "true"
	return p, nil
}

func itoa(n int32) string { return strconv.FormatInt(int64(n), 10) }
