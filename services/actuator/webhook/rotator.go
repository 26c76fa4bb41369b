package webhook

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// rotator holds the serving certificate and renews it, publishing the CA bundle first.
type rotator struct {
	hosts    []string
	validity time.Duration
	resync   time.Duration
	clock    clock.WithTicker
	publish  func(ctx context.Context, caBundle []byte) error
	logger   *slog.Logger

	mu       sync.RWMutex
	current  *issued
	previous *issued
}

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (r *rotator) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.current == nil {
		return nil, fmt.Errorf("webhook certificate not issued yet")
	}
	return &r.current.cert, nil
}

// CABundle is the PEM bundle clients must trust.
func (r *rotator) CABundle() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.current == nil {
		return nil
	}
	return bundle(r.current, r.previous)
}

// start issues the first certificate and publishes its CA. A failed publish (the
// configuration may not exist yet) is logged and retried by run.
func (r *rotator) start(ctx context.Context) error {
	first, err := issue(r.hosts, r.clock.Now(), r.validity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.current = first
	r.mu.Unlock()
	if err := r.publish(ctx, first.caPEM); err != nil {
		r.logger.Warn("webhook caBundle not published yet; retrying", "err", err)
	}
	return nil
}

// run renews the certificate when due and republishes the bundle on every tick, so a
// re-applied configuration gets its caBundle back within one resync period.
func (r *rotator) run(ctx context.Context) {
	tick := r.clock.NewTicker(r.resync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
		if err := r.tick(ctx); err != nil {
			r.logger.Error("webhook certificate", "err", err)
		}
	}
}

func (r *rotator) tick(ctx context.Context) error {
	now := r.clock.Now()
	r.mu.RLock()
	due := !now.Before(r.current.renewAt)
	old := r.current
	r.mu.RUnlock()
	if !due {
		return r.publish(ctx, r.CABundle())
	}
	next, err := issue(r.hosts, now, r.validity)
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	// Trust first, then serve: a client that fetched the bundle before the swap still verifies.
	if err := r.publish(ctx, bundle(next, old)); err != nil {
		return fmt.Errorf("publish renewed CA: %w", err)
	}
	r.mu.Lock()
	r.previous, r.current = old, next
	r.mu.Unlock()
	r.logger.Info("webhook certificate renewed", "notAfter", next.notAfter)
	return nil
}
