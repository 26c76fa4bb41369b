package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The Secret every replica reads its certificate from, in the actuator's own namespace. Get and
// update are granted on the default name only; create cannot be narrowed to a name in RBAC,
// so the role may create any Secret in that namespace (it still reads none but this one).
//
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;update,resourceNames=ebb-webhook-certs,namespace=ebb-system
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create,namespace=ebb-system

// rotator keeps the serving certificate in a Secret that every replica shares, renews it when
// due, and publishes the CA bundle before serving a certificate it signed. Every read goes to
// the API server (the client is uncached), so the actuator watches no Secret.
type rotator struct {
	client        client.Client
	secret        client.ObjectKey
	configuration string // ValidatingWebhookConfiguration to publish to; "" publishes nowhere
	hosts         []string
	validity      time.Duration
	resync        time.Duration
	clock         clock.WithTicker
	logger        *slog.Logger

	mu      sync.RWMutex
	serving *certs
	bundle  []byte // what the served certificate's replicas trust, as last published
}

// errNotServing is GetCertificate's answer before start has loaded a certificate.
var errNotServing = errors.New("webhook certificate not loaded yet")

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (r *rotator) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.serving == nil {
		return nil, errNotServing
	}
	return &r.serving.cert, nil
}

// CABundle is the PEM bundle clients must trust.
func (r *rotator) CABundle() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.bundle
}

// served is the certificate served so far, nil before start has loaded one.
func (r *rotator) served() *certs {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.serving
}

// start makes sure the Secret holds a usable certificate and serves it. A bundle that cannot
// be published yet (the configuration may not exist) is logged and retried by run; only a
// certificate that cannot be had fails start.
func (r *rotator) start(ctx context.Context) error {
	if err := r.ensure(ctx); err != nil {
		return err
	}
	err := r.sync(ctx)
	if r.served() == nil {
		return err
	}
	if err != nil {
		r.logger.Warn("webhook caBundle not published yet; retrying", "err", err)
	}
	return nil
}

// run checks the Secret and the configuration every resync period: it renews a certificate
// that is due, serves one another replica renewed, and republishes a bundle that was removed
// (e.g. the configuration was re-applied).
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
	if err := r.ensure(ctx); err != nil {
		return err
	}
	return r.sync(ctx)
}

// ensure makes the Secret hold a certificate that is valid for r.hosts and not yet due: it
// creates the Secret when there is none and renews one that is due, by an update at the
// resourceVersion read. Another replica creating or renewing first is no error: sync then
// serves what that replica wrote.
func (r *rotator) ensure(ctx context.Context) error {
	now := r.clock.Now()
	var s corev1.Secret
	err := r.client.Get(ctx, r.secret, &s)
	if apierrors.IsNotFound(err) {
		return r.create(ctx, now)
	}
	if err != nil {
		return fmt.Errorf("get Secret %s: %w", r.secret, err)
	}
	held, err := parseCerts(s.Data)
	if err != nil {
		r.logger.Warn("webhook Secret unusable; replacing it", "secret", r.secret.String(), "err", err)
		return r.renew(ctx, &s, nil, "unusable", now)
	}
	if reason := held.renewal(now, r.hosts); reason != "" {
		return r.renew(ctx, &s, held, reason, now)
	}
	return nil
}

// renew replaces the certificates of s, read at its resourceVersion, keeping held's CA as the
// previous one (the one served so far when the Secret's is unusable). Names already in held's
// certificate stay: replicas configured with different names (a rolling upgrade) must not
// renew it back and forth.
func (r *rotator) renew(ctx context.Context, s *corev1.Secret, held *certs, reason string, now time.Time) error {
	if held == nil {
		held = r.served()
	}
	hosts := r.hosts
	if held != nil {
		hosts = union(held.hosts(), r.hosts)
	}
	next, err := issue(hosts, now, r.validity)
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	if held != nil {
		next = held.succeededBy(next, now)
	}
	s.Data = next.data()
	switch err := r.client.Update(ctx, s); {
	case apierrors.IsConflict(err):
		r.logger.Info("webhook certificate changed by another replica", "secret", r.secret.String())
		return nil
	case err != nil:
		return fmt.Errorf("renew certificate in Secret %s: %w", r.secret, err)
	}
	r.logger.Info("webhook certificate renewed", "secret", r.secret.String(), "reason", reason, "notAfter", next.cert.Leaf.NotAfter)
	return nil
}

// create writes a first certificate. AlreadyExists means another replica was first. When
// the Secret was deleted, the CA served until now stays trusted as the previous one, so
// replicas still serving its certificate keep verifying until they read the new one.
func (r *rotator) create(ctx context.Context, now time.Time) error {
	first, err := issue(r.hosts, now, r.validity)
	if err != nil {
		return err
	}
	if held := r.served(); held != nil {
		first = held.succeededBy(first, now)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.secret.Namespace, Name: r.secret.Name, Labels: map[string]string{
			"app.kubernetes.io/component": "actuator", "app.kubernetes.io/part-of": "ebb"}},
		Type: corev1.SecretTypeTLS,
		Data: first.data(),
	}
	switch err := r.client.Create(ctx, s); {
	case apierrors.IsAlreadyExists(err):
		r.logger.Info("webhook certificate created by another replica", "secret", r.secret.String())
		return nil
	case err != nil:
		return fmt.Errorf("create Secret %s: %w", r.secret, err)
	}
	r.logger.Info("webhook certificate created", "secret", r.secret.String(), "notAfter", first.cert.Leaf.NotAfter)
	return nil
}

// sync publishes the bundle of what the Secret holds, then serves its certificate: trust
// first, then serve. While publishing fails the certificate served so far stays (unless there
// is none yet, or no configuration to publish to). A conflict on the configuration means
// another replica published at the same time: both reads are repeated.
func (r *rotator) sync(ctx context.Context) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		held, err := r.publish(ctx)
		if held == nil {
			return err
		}
		if err != nil && r.served() != nil && !apierrors.IsNotFound(err) {
			return err
		}
		r.serve(held)
		return err
	})
}

// publish writes the bundle of the certificates the Secret holds into every webhook of the
// configuration, when it differs, and returns what it read. The configuration is read before
// the Secret and written at the resourceVersion read, so a replica that read the Secret before
// another renewed it fails with a conflict rather than write over the newer bundle.
func (r *rotator) publish(ctx context.Context) (*certs, error) {
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	var getErr error
	if r.configuration != "" {
		if err := r.client.Get(ctx, client.ObjectKey{Name: r.configuration}, &vwc); err != nil {
			getErr = fmt.Errorf("get ValidatingWebhookConfiguration %s: %w", r.configuration, err)
		}
	}
	held, err := r.load(ctx)
	if err != nil || r.configuration == "" || getErr != nil {
		return held, errors.Join(err, getErr)
	}
	bundle := held.bundle(r.clock.Now())
	changed := false
	for i := range vwc.Webhooks {
		if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, bundle) {
			vwc.Webhooks[i].ClientConfig.CABundle = bundle
			changed = true
		}
	}
	if !changed {
		return held, nil
	}
	if err := r.client.Update(ctx, &vwc); err != nil {
		return held, fmt.Errorf("update caBundle of ValidatingWebhookConfiguration %s: %w", r.configuration, err)
	}
	r.logger.Info("webhook caBundle published", "configuration", r.configuration)
	return held, nil
}

// load reads the certificates the Secret holds.
func (r *rotator) load(ctx context.Context) (*certs, error) {
	var s corev1.Secret
	if err := r.client.Get(ctx, r.secret, &s); err != nil {
		return nil, fmt.Errorf("get Secret %s: %w", r.secret, err)
	}
	held, err := parseCerts(s.Data)
	if err != nil {
		return nil, fmt.Errorf("read Secret %s: %w", r.secret, err)
	}
	return held, nil
}

// serve hands out held's certificate from now on.
func (r *rotator) serve(held *certs) {
	bundle := held.bundle(r.clock.Now())
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.serving != nil && !bytes.Equal(r.serving.certPEM, held.certPEM) {
		r.logger.Info("webhook serving a new certificate", "notAfter", held.cert.Leaf.NotAfter)
	}
	r.serving, r.bundle = held, bundle
}

// union is a followed by the elements of b it lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
