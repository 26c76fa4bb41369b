package poller

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller/resolve"
)

// objectID names a ScaledObject or ScaledJob across its generations.
type objectID struct {
	namespace string
	kind      msg.Kind
	name      string
}

// job is one trigger of one generation of an object: everything a poll needs.
type job struct {
	key      string // msg.ReadingKey: the shard key and the readings bucket key
	ref      msg.ObjectRef
	index    int
	trigger  v1alpha1.ScaleTriggers
	interval time.Duration
	phase    time.Duration
	req      resolve.Request
}

// jobs lists the triggers of obj that handles accepts. An object being deleted has none.
func jobs(obj client.Object, handles func(kind string) bool) (objectID, []*job) {
	var (
		kind      msg.Kind
		triggers  []v1alpha1.ScaleTriggers
		interval  *int32
		target    *v1alpha1.ScaleTarget
		podSpec   *corev1.PodSpec
		container string
	)
	switch o := obj.(type) {
	case *v1alpha1.ScaledObject:
		kind, triggers, interval = msg.ScaledObject, o.Spec.Triggers, o.Spec.PollingInterval
		target = o.Spec.ScaleTargetRef
		if target != nil {
			container = target.EnvSourceContainerName
		}
	case *v1alpha1.ScaledJob:
		kind, triggers, interval = msg.ScaledJob, o.Spec.Triggers, o.Spec.PollingInterval
		container = o.Spec.EnvSourceContainerName
		if o.Spec.JobTargetRef != nil {
			podSpec = &o.Spec.JobTargetRef.Template.Spec
		}
	}
	id := objectID{namespace: obj.GetNamespace(), kind: kind, name: obj.GetName()}
	if kind == "" || obj.GetDeletionTimestamp() != nil {
		return id, nil
	}
	every := time.Duration(v1alpha1.DefaultPollingInterval) * time.Second
	if interval != nil && *interval > 0 {
		every = time.Duration(*interval) * time.Second
	}
	ref := msg.ObjectRef{Namespace: id.namespace, Kind: kind, Name: id.name, UID: string(obj.GetUID()), Generation: obj.GetGeneration()}
	var out []*job
	for i, t := range triggers {
		if !handles(t.Type) {
			continue
		}
		key := msg.ReadingKey(ref, i)
		out = append(out, &job{
			key: key, ref: ref, index: i, trigger: t, interval: every, phase: phase(key, every),
			req: resolve.Request{
				Namespace: id.namespace, Trigger: t, ScaleTarget: target, PodSpec: podSpec, Container: container,
				Path: field.NewPath("spec", "triggers").Index(i),
			},
		})
	}
	return id, out
}

func (id objectID) String() string {
	return id.namespace + "/" + id.name + " (" + string(id.kind) + ")"
}

// logKey is the log attribute naming the object: scaledObject or scaledJob.
func (id objectID) logKey() string {
	if id.kind == msg.ScaledJob {
		return "scaledJob"
	}
	return "scaledObject"
}
