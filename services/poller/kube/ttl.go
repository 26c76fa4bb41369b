package kube

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ttlCache keeps values until their own expiry time.
type ttlCache[K comparable, V any] struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	items map[K]ttlItem[V]
}

type ttlItem[V any] struct {
	value   V
	expires time.Time
}

func newTTLCache[K comparable, V any](c clock.PassiveClock) *ttlCache[K, V] {
	return &ttlCache[K, V]{clock: c, items: map[K]ttlItem[V]{}}
}

// get returns the value of k, calling load when it is missing or expired. load returns the
// value and how long it may be reused; errors are not cached.
func (c *ttlCache[K, V]) get(k K, load func() (V, time.Duration, error)) (V, error) {
	c.mu.Lock()
	it, ok := c.items[k]
	c.mu.Unlock()
	if ok && c.clock.Now().Before(it.expires) {
		return it.value, nil
	}
	v, ttl, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.items[k] = ttlItem[V]{value: v, expires: c.clock.Now().Add(ttl)}
	c.mu.Unlock()
	return v, nil
}

// sweep drops expired values.
func (c *ttlCache[K, V]) sweep() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, it := range c.items {
		if !now.Before(it.expires) {
			delete(c.items, k)
		}
	}
}
