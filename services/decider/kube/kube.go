package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/services/decider/hpa"
)

// JobNameLabel is the label the Job controller puts on a Job's pods.
const JobNameLabel = batchv1.JobNameLabel

// targetIndex indexes ScaledObjects by their scale target, see targetKey.
const targetIndex = "ebb.scaleTarget"

// Cluster reads what the decider needs. Start it, wait for Synced, then use it.
type Cluster struct {
	cache cache.Cache
	api   client.Client // uncached: /scale of kinds without an informer
}

// Scheme is the scheme the decider's clients use: client-go's types and keda.sh/v1alpha1.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// New builds the informers (not yet started) and the direct client.
func New(rc *rest.Config) (*Cluster, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, fmt.Errorf("kube scheme: %w", err)
	}
	api, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	jobPods, err := labels.NewRequirement(JobNameLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	scaledJobs, err := labels.NewRequirement(v1alpha1.ScaledJobNameLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	noCopy := true // the decider only reads: skip a deep copy per read
	c, err := cache.New(rc, cache.Options{
		Scheme:                       scheme,
		Mapper:                       api.RESTMapper(),
		ReaderFailOnMissingInformer:  true,
		DefaultTransform:             cache.TransformStripManagedFields(),
		DefaultUnsafeDisableDeepCopy: &noCopy,
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:  {Transform: replicasOnly},
			&appsv1.StatefulSet{}: {Transform: replicasOnly},
			&batchv1.Job{}:        {Label: labels.NewSelector().Add(*scaledJobs), Transform: jobStatusOnly},
			&corev1.Pod{}:         {Label: labels.NewSelector().Add(*jobPods), Transform: podStatusOnly},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("kube cache: %w", err)
	}
	return &Cluster{cache: c, api: api}, nil
}

// replicasOnly keeps of a Deployment or StatefulSet its identity, spec.replicas and the
// counts of pods that exist and are ready: 10,000 pod templates would be most of the
// decider's memory otherwise.
func replicasOnly(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.ObjectMeta = identity(o.ObjectMeta)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas}
		o.Status = appsv1.DeploymentStatus{Replicas: o.Status.Replicas, ReadyReplicas: o.Status.ReadyReplicas}
	case *appsv1.StatefulSet:
		o.ObjectMeta = identity(o.ObjectMeta)
		o.Spec = appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas}
		o.Status = appsv1.StatefulSetStatus{Replicas: o.Status.Replicas, ReadyReplicas: o.Status.ReadyReplicas}
	}
	return obj, nil
}

// jobStatusOnly keeps of a Job its identity, its ScaledJob label and its conditions.
func jobStatusOnly(obj any) (any, error) {
	if j, ok := obj.(*batchv1.Job); ok {
		meta := identity(j.ObjectMeta)
		meta.Labels = map[string]string{v1alpha1.ScaledJobNameLabel: j.Labels[v1alpha1.ScaledJobNameLabel]}
		j.ObjectMeta, j.Spec = meta, batchv1.JobSpec{}
		j.Status = batchv1.JobStatus{Conditions: j.Status.Conditions}
	}
	return obj, nil
}

// podStatusOnly keeps of a Job's pod its identity, its Job label, its phase and conditions.
func podStatusOnly(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		meta := identity(p.ObjectMeta)
		meta.Labels = map[string]string{JobNameLabel: p.Labels[JobNameLabel]}
		p.ObjectMeta, p.Spec = meta, corev1.PodSpec{}
		p.Status = corev1.PodStatus{Phase: p.Status.Phase, Conditions: p.Status.Conditions}
	}
	return obj, nil
}

func identity(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp}
}

// Start creates every informer and runs them until ctx ends; it returns at once.
func (k *Cluster) Start(ctx context.Context) error {
	err := k.cache.IndexField(ctx, &v1alpha1.ScaledObject{}, targetIndex, func(o client.Object) []string {
		so := o.(*v1alpha1.ScaledObject)
		if so.Spec.ScaleTargetRef == nil {
			return nil
		}
		return []string{targetKey(*so.Spec.ScaleTargetRef)}
	})
	if err != nil {
		return fmt.Errorf("index scaled objects by target: %w", err)
	}
	for _, obj := range []client.Object{
		&v1alpha1.ScaledObject{}, &v1alpha1.ScaledJob{},
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &batchv1.Job{}, &corev1.Pod{},
	} {
		if _, err := k.cache.GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("informer for %T: %w", obj, err)
		}
	}
	errs := make(chan error, 1)
	go func() { errs <- k.cache.Start(ctx) }()
	select {
	case err := <-errs:
		return fmt.Errorf("start informers: %w", err)
	default:
		return nil
	}
}

// Synced waits until every informer has listed its objects.
func (k *Cluster) Synced(ctx context.Context) error {
	if !k.cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("informers not synced: %w", context.Cause(ctx))
	}
	return nil
}

// Handler receives what changes in the cluster. Its methods run on the informers'
// goroutines and must not block for long; the objects are shared with the cache and must not
// be modified.
type Handler interface {
	// Set is called with every ScaledObject and ScaledJob as it is listed, added, or changed
	// in its spec, labels or annotations.
	Set(obj client.Object)
	// Gone is called with every ScaledObject and ScaledJob deleted.
	Gone(obj client.Object)
	// Replicas is called when the replica count of a ScaledObject's target changes.
	Replicas(so *v1alpha1.ScaledObject)
}

// Watch delivers changes to h until ctx ends.
func (k *Cluster) Watch(ctx context.Context, h Handler) error {
	for _, obj := range []client.Object{&v1alpha1.ScaledObject{}, &v1alpha1.ScaledJob{}} {
		err := k.handle(ctx, obj, toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) { call(h.Set, o) },
			UpdateFunc: func(old, o any) {
				if specChanged(old.(client.Object), o.(client.Object)) {
					call(h.Set, o)
				}
			},
			DeleteFunc: func(o any) { call(h.Gone, o) },
		})
		if err != nil {
			return err
		}
	}
	targets := func(o client.Object) {
		for _, so := range k.targeting(ctx, o) {
			h.Replicas(so)
		}
	}
	for _, obj := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}} {
		err := k.handle(ctx, obj, toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) { call(targets, o) },
			UpdateFunc: func(old, o any) {
				if replicas(old) != replicas(o) {
					call(targets, o)
				}
			},
			DeleteFunc: func(o any) { call(targets, o) },
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (k *Cluster) handle(ctx context.Context, obj client.Object, h toolscache.ResourceEventHandler) error {
	inf, err := k.cache.GetInformer(ctx, obj)
	if err != nil {
		return fmt.Errorf("informer for %T: %w", obj, err)
	}
	if _, err := inf.AddEventHandler(h); err != nil {
		return fmt.Errorf("watch %T: %w", obj, err)
	}
	return nil
}

// specChanged ignores status updates (the actuator writes status often).
func specChanged(old, o client.Object) bool {
	return old.GetGeneration() != o.GetGeneration() || old.GetUID() != o.GetUID() ||
		!equalMaps(old.GetAnnotations(), o.GetAnnotations()) || !equalMaps(old.GetLabels(), o.GetLabels()) ||
		(old.GetDeletionTimestamp() == nil) != (o.GetDeletionTimestamp() == nil)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func replicas(o any) int32 {
	var r *int32
	switch o := o.(type) {
	case *appsv1.Deployment:
		r = o.Spec.Replicas
	case *appsv1.StatefulSet:
		r = o.Spec.Replicas
	}
	if r == nil {
		return 1
	}
	return *r
}

// targeting lists the ScaledObjects whose target is the Deployment or StatefulSet o.
func (k *Cluster) targeting(ctx context.Context, o client.Object) []*v1alpha1.ScaledObject {
	kind := "Deployment"
	if _, ok := o.(*appsv1.StatefulSet); ok {
		kind = "StatefulSet"
	}
	var list v1alpha1.ScaledObjectList
	key := targetKey(v1alpha1.ScaleTarget{APIVersion: "apps/v1", Kind: kind, Name: o.GetName()})
	if err := k.cache.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{targetIndex: key}); err != nil {
		return nil
	}
	out := make([]*v1alpha1.ScaledObject, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out
}

// targetKey is <group>/<kind>/<name>, the version left out so apps/v1 and apps/v1beta2
// name the same target.
func targetKey(t v1alpha1.ScaleTarget) string {
	gvk := targetGVK(t)
	return gvk.Group + "/" + gvk.Kind + "/" + t.Name
}

func targetGVK(t v1alpha1.ScaleTarget) schema.GroupVersionKind {
	if t.APIVersion == "" {
		t.APIVersion = v1alpha1.DefaultScaleTargetAPI
	}
	if t.Kind == "" {
		t.Kind = v1alpha1.DefaultScaleTargetKind
	}
	gv, err := schema.ParseGroupVersion(t.APIVersion)
	if err != nil {
		return schema.GroupVersionKind{Kind: t.Kind}
	}
	return gv.WithKind(t.Kind)
}

// call unwraps a delete tombstone.
func call[T client.Object](fn func(T), o any) {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	if obj, ok := o.(T); ok {
		fn(obj)
	}
}

// Replicas returns a ScaledObject's scale target as the HPA reads it: spec.replicas, the pods
// that exist and the ready ones. Deployments and StatefulSets come from the informers; any
// other kind from its /scale subresource, whose status.replicas stands for both counts.
func (k *Cluster) Replicas(ctx context.Context, namespace string, t v1alpha1.ScaleTarget) (hpa.Pods, error) {
	gvk := targetGVK(t)
	key := types.NamespacedName{Namespace: namespace, Name: t.Name}
	var obj client.Object
	switch {
	case gvk.Group == "apps" && gvk.Kind == "Deployment":
		obj = &appsv1.Deployment{}
	case gvk.Group == "apps" && gvk.Kind == "StatefulSet":
		obj = &appsv1.StatefulSet{}
	default:
		return k.scale(ctx, key, gvk)
	}
	if err := k.cache.Get(ctx, key, obj); err != nil {
		return hpa.Pods{}, fmt.Errorf("read %s %s: %w", gvk.Kind, key, err)
	}
	return pods(obj), nil
}

func pods(o client.Object) hpa.Pods {
	p := hpa.Pods{Replicas: replicas(o)}
	switch o := o.(type) {
	case *appsv1.Deployment:
		p.Existing, p.Ready = o.Status.Replicas, o.Status.ReadyReplicas
	case *appsv1.StatefulSet:
		p.Existing, p.Ready = o.Status.Replicas, o.Status.ReadyReplicas
	}
	return p
}

func (k *Cluster) scale(ctx context.Context, key types.NamespacedName, gvk schema.GroupVersionKind) (hpa.Pods, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	// The target is unstructured (any kind), and so must its scale be for the client.
	s := &unstructured.Unstructured{}
	s.SetGroupVersionKind(autoscalingv1.SchemeGroupVersion.WithKind("Scale"))
	if err := k.api.SubResource("scale").Get(ctx, u, s); err != nil {
		return hpa.Pods{}, fmt.Errorf("read /scale of %s %s: %w", gvk.Kind, key, err)
	}
	n, _, err := unstructured.NestedInt64(s.Object, "spec", "replicas")
	if err != nil {
		return hpa.Pods{}, fmt.Errorf("read /scale of %s %s: spec.replicas: %w", gvk.Kind, key, err)
	}
	existing, _, err := unstructured.NestedInt64(s.Object, "status", "replicas")
	if err != nil {
		return hpa.Pods{}, fmt.Errorf("read /scale of %s %s: status.replicas: %w", gvk.Kind, key, err)
	}
	return hpa.Pods{Replicas: int32(n), Existing: int32(existing), Ready: int32(existing)}, nil
}

// Jobs counts a ScaledJob's running Jobs (neither Complete nor Failed) and, among them, the
// pending ones: with pendingPodConditions, those without a pod on which all of them are True;
// otherwise those without a Running or Succeeded pod.
func (k *Cluster) Jobs(ctx context.Context, namespace, scaledJob string, pendingPodConditions []string) (running, pending int32, err error) {
	var jobs batchv1.JobList
	if err := k.cache.List(ctx, &jobs, client.InNamespace(namespace), client.MatchingLabels{v1alpha1.ScaledJobNameLabel: scaledJob}); err != nil {
		return 0, 0, fmt.Errorf("list jobs of scaled job %s/%s: %w", namespace, scaledJob, err)
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if finished(j) {
			continue
		}
		running++
		var pods corev1.PodList
		if err := k.cache.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabels{JobNameLabel: j.Name}); err != nil {
			return 0, 0, fmt.Errorf("list pods of job %s/%s: %w", namespace, j.Name, err)
		}
		if Pending(pods.Items, pendingPodConditions) {
			pending++
		}
	}
	return running, pending, nil
}

func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// Pending reports whether a running Job with these pods still counts as pending.
func Pending(pods []corev1.Pod, pendingPodConditions []string) bool {
	for i := range pods {
		if started(&pods[i], pendingPodConditions) {
			return false
		}
	}
	return true
}

func started(p *corev1.Pod, conditions []string) bool {
	if len(conditions) == 0 {
		return p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded
	}
	for _, want := range conditions {
		ok := false
		for _, c := range p.Status.Conditions {
			if string(c.Type) == want && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
