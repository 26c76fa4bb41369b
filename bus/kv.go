package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// WatchKeys starts a watcher on the keys of kv that match pattern and calls apply with every
// stored one before it returns, so the caller starts from the bucket's whole state; later
// changes arrive on the watcher's Updates. It stops the watcher when it fails.
func WatchKeys(ctx context.Context, kv jetstream.KeyValue, pattern string, apply func(jetstream.KeyValueEntry)) (jetstream.KeyWatcher, error) {
	w, err := kv.Watch(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", pattern, err)
	}
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("watch %s: watcher stopped", pattern)
			}
			if e == nil { // every stored key delivered
				return w, nil
			}
			apply(e)
		}
	}
}
