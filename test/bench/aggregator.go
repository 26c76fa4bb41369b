package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"ebb.dev/services/metrics-api/provider"
)

// externalMetricLatency asks the API server's aggregation layer for the external metric of
// random objects of the fleet, as the HPA does, requests times with concurrency in flight,
// and returns each request's duration. Any failed request is an error: metrics-api holds a
// value for every object of a settled fleet.
func externalMetricLatency(ctx context.Context, rc *rest.Config, size int, metric string, requests, concurrency int) ([]time.Duration, error) {
	rc = rest.CopyConfig(rc)
	rc.QPS = -1 // the client's own limiter would add waits to the figures
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	client := kube.Discovery().RESTClient()
	var (
		mu    sync.Mutex
		out   = make([]time.Duration, 0, requests)
		left  atomic.Int64
		first error
		wg    sync.WaitGroup
	)
	left.Store(int64(requests))
	for range concurrency {
		wg.Go(func() {
			for left.Add(-1) >= 0 && ctx.Err() == nil {
				name := fleetName(rand.IntN(size))
				start := time.Now()
				_, err := client.Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", fleetNamespace, metric).
					Param("labelSelector", provider.ScaledObjectLabel+"="+name).DoRaw(ctx)
				d := time.Since(start)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("external metric %s of %s: %w", metric, name, err)
				}
				out = append(out, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, ctx.Err()
}
