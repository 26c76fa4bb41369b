package kube

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// dataCache holds the data of the Secrets and ConfigMaps triggers read, each tagged with the
// resourceVersion it was read at. The metadata informer knows every object's current
// resourceVersion without its data, so a rotated Secret is read again at its next use and an
// unchanged one costs no API call. Objects no trigger reads are never fetched.
type dataCache struct {
	meta client.Reader // the informers' PartialObjectMetadata
	api  client.Reader // the API server itself
	now  func() time.Time

	mu         sync.Mutex
	secrets    map[types.NamespacedName]entry[map[string][]byte]
	configMaps map[types.NamespacedName]entry[map[string]string]
}

type entry[T any] struct {
	version string
	data    T
	used    time.Time
}

func (d *dataCache) secret(ctx context.Context, key types.NamespacedName) (map[string][]byte, error) {
	return fetch(ctx, d, d.secrets, key, secretMeta(), func() (string, map[string][]byte, error) {
		var s corev1.Secret
		err := d.api.Get(ctx, key, &s)
		return s.ResourceVersion, s.Data, err
	})
}

func (d *dataCache) configMap(ctx context.Context, key types.NamespacedName) (map[string]string, error) {
	return fetch(ctx, d, d.configMaps, key, configMapMeta(), func() (string, map[string]string, error) {
		var c corev1.ConfigMap
		err := d.api.Get(ctx, key, &c)
		return c.ResourceVersion, c.Data, err
	})
}

// fetch returns the cached data of key when the informer shows the same resourceVersion, and
// reads the object otherwise. An object the informer has not seen yet (just created) is read
// directly: the API server, not the informer, decides whether it is missing.
func fetch[T any](ctx context.Context, d *dataCache, m map[types.NamespacedName]entry[T], key types.NamespacedName,
	meta *metav1.PartialObjectMetadata, get func() (string, T, error)) (T, error) {
	version := ""
	if err := d.meta.Get(ctx, key, meta); err == nil {
		version = meta.ResourceVersion
	}
	d.mu.Lock()
	e, ok := m[key]
	if ok && version != "" && e.version == version {
		e.used = d.now()
		m[key] = e
		d.mu.Unlock()
		return e.data, nil
	}
	d.mu.Unlock()
	v, data, err := get()
	if err != nil {
		var zero T
		return zero, err
	}
	d.mu.Lock()
	m[key] = entry[T]{version: v, data: data, used: d.now()}
	d.mu.Unlock()
	return data, nil
}

// forget drops a deleted Secret's or ConfigMap's data.
func (d *dataCache) forget(obj client.Object) {
	key := client.ObjectKeyFromObject(obj)
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.secrets, key)
	delete(d.configMaps, key)
}

// sweep drops data last used before cutoff.
func (d *dataCache) sweep(cutoff time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, e := range d.secrets {
		if e.used.Before(cutoff) {
			delete(d.secrets, k)
		}
	}
	for k, e := range d.configMaps {
		if e.used.Before(cutoff) {
			delete(d.configMaps, k)
		}
	}
}
