package target

import (
	"context"
	"fmt"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/util/retry"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Ref is a resolved scale target.
type Ref struct {
	Namespace string
	Name      string
	GVKR      v1alpha1.GroupVersionKindResource
}

func (r Ref) String() string {
	return fmt.Sprintf("%s %s/%s", schema.GroupResource{Group: r.GVKR.Group, Resource: r.GVKR.Resource}, r.Namespace, r.Name)
}

func (r Ref) groupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.GVKR.Group, Resource: r.GVKR.Resource}
}

// Scales reads and writes scale subresources; client-go's scale.ScalesGetter is one.
type Scales = scale.ScalesGetter

// Resolver maps scale targets to resources and moves their replica counts.
type Resolver struct {
	mapper meta.RESTMapper
	scales Scales
}

// New resolves through mapper and writes through scales.
func New(mapper meta.RESTMapper, scales Scales) *Resolver {
	return &Resolver{mapper: mapper, scales: scales}
}

// NewScales is client-go's scale client for cfg, resolving each resource's scale kind once
// through discovery.
func NewScales(cfg *rest.Config, httpClient *http.Client, mapper meta.RESTMapper) (Scales, error) {
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("scale client: %w", err)
	}
	return scale.NewForConfig(cfg, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(disc))
}

// Resolve maps so's scaleTargetRef (default apps/v1 Deployment) to its resource. A kind the
// API server does not serve is an error for which IsNotFound holds.
func (r *Resolver) Resolve(so *v1alpha1.ScaledObject) (Ref, error) {
	apiVersion, kind, name := v1alpha1.DefaultScaleTargetAPI, v1alpha1.DefaultScaleTargetKind, ""
	if t := so.Spec.ScaleTargetRef; t != nil {
		name = t.Name
		if t.APIVersion != "" {
			apiVersion = t.APIVersion
		}
		if t.Kind != "" {
			kind = t.Kind
		}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return Ref{}, fmt.Errorf("spec.scaleTargetRef.apiVersion %q: %w", apiVersion, err)
	}
	m, err := r.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if err != nil {
		return Ref{}, fmt.Errorf("spec.scaleTargetRef: %s %s: %w", apiVersion, kind, err)
	}
	return Ref{Namespace: so.Namespace, Name: name, GVKR: v1alpha1.GroupVersionKindResource{
		Group: gv.Group, Version: gv.Version, Kind: kind, Resource: m.Resource.Resource,
	}}, nil
}

// IsNotFound reports whether err means the target, or its kind, does not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) || meta.IsNoMatchError(err) }

// Replicas reads the target's desired replica count from its scale subresource.
func (r *Resolver) Replicas(ctx context.Context, t Ref) (int32, error) {
	s, err := r.get(ctx, t)
	if err != nil {
		return 0, err
	}
	return s.Spec.Replicas, nil
}

func (r *Resolver) get(ctx context.Context, t Ref) (*autoscalingv1.Scale, error) {
	s, err := r.scales.Scales(t.Namespace).Get(ctx, t.groupResource(), t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get scale of %s: %w", t, err)
	}
	return s, nil
}

// Move is one write of a target's replica count.
type Move struct {
	From, To int32
	Wrote    bool // false when decide asked for no write
}

// Scale reads the target's replicas, asks decide for the count to write, and writes it with
// the resourceVersion it read. When someone else changed the target in between, the write
// conflicts and the whole read-decide-write runs again on fresh data, so decide never acts
// on a stale count.
func (r *Resolver) Scale(ctx context.Context, t Ref, decide func(current int32) (int32, bool)) (Move, error) {
	var m Move
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := r.get(ctx, t)
		if err != nil {
			return err
		}
		m = Move{From: s.Spec.Replicas, To: s.Spec.Replicas}
		to, write := decide(s.Spec.Replicas)
		if !write || to == s.Spec.Replicas {
			return nil
		}
		s.Spec.Replicas = to
		if _, err := r.scales.Scales(t.Namespace).Update(ctx, t.groupResource(), s, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("scale %s from %d to %d: %w", t, m.From, to, err)
		}
		m.To, m.Wrote = to, true
		return nil
	})
	return m, err
}
