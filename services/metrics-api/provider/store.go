package provider

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Key names one ScaledObject.
type Key struct {
	Namespace string
	Name      string
}

func (k Key) String() string { return k.Namespace + "/" + k.Name }

// Value is one metric of one ScaledObject as the decider last published it.
type Value struct {
	Metric string
	Value  float64
	// Err is set when the decider had no value to serve (a failing trigger without fallback);
	// the HPA then gets an error, never a zero.
	Err string
	// At is when the value was decided.
	At time.Time
	// PollingInterval is the ScaledObject's; a value is stale after a multiple of it.
	PollingInterval time.Duration
}

// Sentinel errors; Provider turns them into API errors.
var (
	ErrNotFound = errors.New("no such metric")
	ErrStale    = errors.New("metric value is stale")
	ErrFailing  = errors.New("metric is failing")
)

// Store keeps the latest metric values of every ScaledObject. Reads take no lock on the metric
// list and a read lock on the values, so the HPA's requests never wait behind each other.
type Store struct {
	// StaleAfter is how many polling intervals a value stays servable; 0 means 3.
	StaleAfter int
	now        func() time.Time

	mu      sync.RWMutex
	objects map[Key]map[string]Value
	values  int // metrics held over every object

	// names is the sorted, de-duplicated list of metric names, rebuilt on change.
	names atomic.Pointer[[]string]
}

// NewStore returns an empty store; now is the clock (time.Now in production).
func NewStore(now func() time.Time) *Store {
	s := &Store{now: now, objects: map[Key]map[string]Value{}}
	s.names.Store(&[]string{})
	return s
}

// Set replaces every metric of one ScaledObject: a metric the decider no longer sends (a trigger
// removed from the spec) disappears with it.
func (s *Store) Set(key Key, values []Value) {
	metrics := make(map[string]Value, len(values))
	for _, v := range values {
		metrics[v.Metric] = v
	}
	s.mu.Lock()
	changed := !sameMetricNames(s.objects[key], metrics)
	s.values += len(metrics) - len(s.objects[key])
	s.objects[key] = metrics
	if changed {
		s.rebuildNames()
	}
	s.mu.Unlock()
}

// Delete forgets a ScaledObject.
func (s *Store) Delete(key Key) {
	s.mu.Lock()
	if metrics, ok := s.objects[key]; ok {
		s.values -= len(metrics)
		delete(s.objects, key)
		s.rebuildNames()
	}
	s.mu.Unlock()
}

// Get returns the value of metric for key, or ErrNotFound, ErrStale or ErrFailing (wrapped with
// what happened).
func (s *Store) Get(key Key, metric string) (Value, error) {
	s.mu.RLock()
	v, ok := s.objects[key][metric]
	s.mu.RUnlock()
	if !ok {
		return Value{}, fmt.Errorf("%s %s: %w", key, metric, ErrNotFound)
	}
	if v.Err != "" {
		return v, fmt.Errorf("%s %s: %w: %s", key, metric, ErrFailing, v.Err)
	}
	if maxAge := s.maxAge(v); v.PollingInterval > 0 && s.now().Sub(v.At) > maxAge {
		return v, fmt.Errorf("%s %s: %w: last value is %s old, limit %s", key, metric, ErrStale, s.now().Sub(v.At).Round(time.Second), maxAge)
	}
	return v, nil
}

// Len is how many values the store holds: one per metric of each ScaledObject.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.values
}

// Names lists every metric name held, sorted. It allocates nothing and cannot fail.
func (s *Store) Names() []string { return *s.names.Load() }

func (s *Store) maxAge(v Value) time.Duration {
	n := s.StaleAfter
	if n <= 0 {
		n = 3
	}
	return time.Duration(n) * v.PollingInterval
}

// rebuildNames runs under s.mu.
func (s *Store) rebuildNames() {
	seen := map[string]bool{}
	var names []string
	for _, metrics := range s.objects {
		for name := range metrics {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	s.names.Store(&names)
}

func sameMetricNames(a, b map[string]Value) bool {
	if len(a) != len(b) {
		return false
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			return false
		}
	}
	return true
}
