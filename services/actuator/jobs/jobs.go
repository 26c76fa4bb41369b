package jobs

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Labels and annotations ebb puts on the Jobs it creates, besides scaledjob.keda.sh/name.
const (
	// DecisionLabel holds the decision a Job was created for (its time in Unix nanoseconds), so
	// a repeated decision finds the Jobs it already created.
	DecisionLabel = "ebb.dev/decision"
	// GenerationAnnotation is the ScaledJob generation the Job was created from.
	GenerationAnnotation = "ebb.dev/scaledjob-generation"
	managedByLabel       = "app.kubernetes.io/managed-by"
)

// DecisionTag is the DecisionLabel value of a decision made at t.
func DecisionTag(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// New is one Job for sj from its jobTargetRef: generateName <name>-, labels
// scaledjob.keda.sh/name (on the Job and its pods) and the decision tag, restartPolicy
// OnFailure unless set, and sj as its controller.
func New(sj *v1alpha1.ScaledJob, tag string) *batchv1.Job {
	spec := sj.Spec.JobTargetRef.DeepCopy()
	if spec.Template.Spec.RestartPolicy == "" {
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	if spec.Template.Labels == nil {
		spec.Template.Labels = map[string]string{}
	}
	spec.Template.Labels[v1alpha1.ScaledJobNameLabel] = sj.Name
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: sj.Name + "-",
			Namespace:    sj.Namespace,
			Labels: map[string]string{
				v1alpha1.ScaledJobNameLabel: sj.Name,
				managedByLabel:              "ebb",
				DecisionLabel:               tag,
			},
			Annotations:     map[string]string{GenerationAnnotation: strconv.FormatInt(sj.Generation, 10)},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sj, v1alpha1.GroupVersion().WithKind(v1alpha1.KindScaledJob))},
		},
		Spec: *spec,
	}
}

// State is where a Job is in its life.
type State int

const (
	Running State = iota
	Succeeded
	Failed
)

// StateOf reads a Job's Complete and Failed conditions.
func StateOf(j *batchv1.Job) State {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return Succeeded
		case batchv1.JobFailed:
			return Failed
		}
	}
	return Running
}

// Expired returns the finished Jobs beyond the limits, oldest first: the successful ones past
// successful, the failed ones past failed.
func Expired(list []batchv1.Job, successful, failed int32) []batchv1.Job {
	var ok, bad []batchv1.Job
	for _, j := range list {
		switch StateOf(&j) {
		case Succeeded:
			ok = append(ok, j)
		case Failed:
			bad = append(bad, j)
		}
	}
	return append(oldest(ok, successful), oldest(bad, failed)...)
}

// oldest returns the len(list)-keep oldest Jobs of list.
func oldest(list []batchv1.Job, keep int32) []batchv1.Job {
	n := len(list) - int(max(keep, 0))
	if n <= 0 {
		return nil
	}
	slices.SortStableFunc(list, func(a, b batchv1.Job) int {
		return cmp.Or(finishedAt(&a).Compare(finishedAt(&b)), cmp.Compare(a.Name, b.Name))
	})
	return list[:n]
}

// finishedAt is when the Job finished: its completion time, else its finishing condition's
// transition, else its creation.
func finishedAt(j *batchv1.Job) time.Time {
	if j.Status.CompletionTime != nil {
		return j.Status.CompletionTime.Time
	}
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return j.CreationTimestamp.Time
}

// Outdated returns the running Jobs created from a generation other than generation; Jobs
// without the annotation were not made by ebb from this spec and count as outdated.
func Outdated(list []batchv1.Job, generation int64) []batchv1.Job {
	var out []batchv1.Job
	want := strconv.FormatInt(generation, 10)
	for _, j := range list {
		if StateOf(&j) == Running && j.Annotations[GenerationAnnotation] != want {
			out = append(out, j)
		}
	}
	return out
}

// Created counts the Jobs in list labelled with tag.
func Created(list []batchv1.Job, tag string) int32 {
	var n int32
	for _, j := range list {
		if j.Labels[DecisionLabel] == tag {
			n++
		}
	}
	return n
}
