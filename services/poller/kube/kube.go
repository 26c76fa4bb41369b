package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Config tunes the reader. Zero values mean the defaults.
type Config struct {
	// WorkloadTTL is how long a scale target's pod template is reused before it is read again
	// (default 1 min). Secrets and ConfigMaps it references are always current.
	WorkloadTTL time.Duration
	// TokenLifetime is the lifetime asked for bound service account tokens (default 1 h);
	// a token is reused until 80 % of it has passed.
	TokenLifetime time.Duration
	// Clock defaults to the real clock.
	Clock clock.PassiveClock
	// Log defaults to discarding.
	Log *slog.Logger
}

const (
	defaultWorkloadTTL   = time.Minute
	defaultTokenLifetime = time.Hour
)

// Cluster reads what the poller needs. Start it, wait for Synced, then use it.
type Cluster struct {
	cache cache.Cache
	api   client.Client // uncached: Secret and ConfigMap data, scale targets, tokens
	cfg   Config

	data      *dataCache
	workloads *ttlCache[workloadKey, *corev1.PodSpec]
	tokens    *ttlCache[types.NamespacedName, string]
}

// Scheme is the scheme the poller's clients use: client-go's types and keda.sh/v1alpha1.
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
func New(rc *rest.Config, cfg Config) (*Cluster, error) {
	if cfg.WorkloadTTL == 0 {
		cfg.WorkloadTTL = defaultWorkloadTTL
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = defaultTokenLifetime
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, fmt.Errorf("kube scheme: %w", err)
	}
	api, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	noCopy := true // handlers and the resolver only read: skip a deep copy per poll
	c, err := cache.New(rc, cache.Options{
		Scheme:                       scheme,
		Mapper:                       api.RESTMapper(),
		ReaderFailOnMissingInformer:  true,
		DefaultTransform:             cache.TransformStripManagedFields(),
		DefaultUnsafeDisableDeepCopy: &noCopy,
		ByObject: map[client.Object]cache.ByObject{
			secretMeta():    {Transform: identityOnly},
			configMapMeta(): {Transform: identityOnly},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("kube cache: %w", err)
	}
	k := &Cluster{
		cache: c, api: api, cfg: cfg,
		workloads: newTTLCache[workloadKey, *corev1.PodSpec](cfg.Clock),
		tokens:    newTTLCache[types.NamespacedName, string](cfg.Clock),
	}
	k.data = &dataCache{meta: c, api: api, now: cfg.Clock.Now, secrets: map[types.NamespacedName]entry[map[string][]byte]{}, configMaps: map[types.NamespacedName]entry[map[string]string]{}}
	return k, nil
}

func secretMeta() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
}

func configMapMeta() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
}

// identityOnly keeps of a Secret's or ConfigMap's metadata only what names a version of it.
// Annotations must go: kubectl apply's last-applied-configuration holds the whole object,
// Secret data included.
func identityOnly(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil // a tombstone
	}
	m.ObjectMeta = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
	return m, nil
}

// Start creates every informer and runs them until ctx ends; it returns at once.
func (k *Cluster) Start(ctx context.Context) error {
	for _, obj := range []client.Object{
		&v1alpha1.ScaledObject{}, &v1alpha1.ScaledJob{},
		&v1alpha1.TriggerAuthentication{}, &v1alpha1.ClusterTriggerAuthentication{},
		secretMeta(), configMapMeta(),
	} {
		if _, err := k.cache.GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("informer for %T: %w", obj, err)
		}
	}
	for _, obj := range []client.Object{secretMeta(), configMapMeta()} {
		if err := k.onDelete(ctx, obj, k.data.forget); err != nil {
			return err
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

// OnScaled calls set with every ScaledObject and ScaledJob as it is listed, added or
// changed, and gone with every one deleted. Both run on the informers' goroutines, one event
// at a time per kind; the objects are shared with the cache and must not be modified.
func (k *Cluster) OnScaled(ctx context.Context, set, gone func(client.Object)) error {
	for _, obj := range []client.Object{&v1alpha1.ScaledObject{}, &v1alpha1.ScaledJob{}} {
		inf, err := k.cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("informer for %T: %w", obj, err)
		}
		_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { call(set, o) },
			UpdateFunc: func(_, o any) { call(set, o) },
			DeleteFunc: func(o any) { call(gone, o) },
		})
		if err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
	}
	return nil
}

func (k *Cluster) onDelete(ctx context.Context, obj client.Object, gone func(client.Object)) error {
	inf, err := k.cache.GetInformer(ctx, obj)
	if err != nil {
		return fmt.Errorf("informer for %T: %w", obj, err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(o any) { call(gone, o) }}); err != nil {
		return fmt.Errorf("watch %T: %w", obj, err)
	}
	return nil
}

// call unwraps a delete tombstone.
func call(fn func(client.Object), o any) {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	if obj, ok := o.(client.Object); ok {
		fn(obj)
	}
}

// TriggerAuthentication returns the spec of namespace/name from the informer.
func (k *Cluster) TriggerAuthentication(ctx context.Context, namespace, name string) (*v1alpha1.TriggerAuthenticationSpec, error) {
	var ta v1alpha1.TriggerAuthentication
	if err := k.cache.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &ta); err != nil {
		return nil, err
	}
	return &ta.Spec, nil
}

// ClusterTriggerAuthentication returns the spec of name from the informer.
func (k *Cluster) ClusterTriggerAuthentication(ctx context.Context, name string) (*v1alpha1.TriggerAuthenticationSpec, error) {
	var cta v1alpha1.ClusterTriggerAuthentication
	if err := k.cache.Get(ctx, client.ObjectKey{Name: name}, &cta); err != nil {
		return nil, err
	}
	return &cta.Spec, nil
}

// Secret returns the current data of a Secret.
func (k *Cluster) Secret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	return k.data.secret(ctx, types.NamespacedName{Namespace: namespace, Name: name})
}

// ConfigMap returns the current data of a ConfigMap.
func (k *Cluster) ConfigMap(ctx context.Context, namespace, name string) (map[string]string, error) {
	return k.data.configMap(ctx, types.NamespacedName{Namespace: namespace, Name: name})
}

// Sweep forgets Secret and ConfigMap data no trigger has read for idle, so credentials a
// trigger stopped using do not stay in memory.
func (k *Cluster) Sweep(idle time.Duration) {
	k.data.sweep(k.cfg.Clock.Now().Add(-idle))
	k.workloads.sweep()
	k.tokens.sweep()
}

var errNoTemplate = errors.New("no spec.template.spec to read the environment from")
