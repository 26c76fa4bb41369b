package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

const testConfiguration = "ebb-admission"

var testSecret = client.ObjectKey{Namespace: "ebb-system", Name: "ebb-webhook-certs"}

// pastClock starts 2h1m in the past, so a 3h certificate issued at its start is valid in real
// time, and so is one renewed at its two thirds (2h later).
func pastClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Now().Add(-2*time.Hour - time.Minute))
}

// newStore is an API server stand-in holding the webhook configuration (two webhooks, no
// caBundle) and no Secret.
func newStore(t *testing.T) client.WithWatch {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: testConfiguration},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{{Name: "a.keda.sh"}, {Name: "b.keda.sh"}},
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(vwc).Build()
}

// newReplica is one replica's rotator for localhost and 127.0.0.1, with a 3h validity.
func newReplica(c client.Client, clk *clocktesting.FakeClock, hosts ...string) *rotator {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	return &rotator{client: c, secret: testSecret, configuration: testConfiguration, hosts: hosts,
		validity: 3 * time.Hour, resync: time.Minute, clock: clk, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func mustStart(t *testing.T, r *rotator) {
	t.Helper()
	if err := r.start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
}

func mustTick(t *testing.T, r *rotator) {
	t.Helper()
	if err := r.tick(t.Context()); err != nil {
		t.Fatalf("tick: %v", err)
	}
}

// stored reads the Secret's certificates.
func stored(t *testing.T, c client.Client) *certs {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(t.Context(), testSecret, &s); err != nil {
		t.Fatal(err)
	}
	held, err := parseCerts(s.Data)
	if err != nil {
		t.Fatalf("Secret: %v", err)
	}
	return held
}

// published is the caBundle of the configuration's webhooks, which must all agree.
func published(t *testing.T, c client.Client) []byte {
	t.Helper()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(t.Context(), client.ObjectKey{Name: testConfiguration}, &vwc); err != nil {
		t.Fatal(err)
	}
	b := vwc.Webhooks[0].ClientConfig.CABundle
	for _, w := range vwc.Webhooks[1:] {
		if !bytes.Equal(w.ClientConfig.CABundle, b) {
			t.Fatal("the webhooks of the configuration carry different caBundles")
		}
	}
	return b
}

// handshake dials a TLS server using r's certificate and trusting only roots.
func handshake(t *testing.T, r *rotator, roots []byte) (*x509.Certificate, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: r.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(roots) {
		t.Fatal("no certificate in the bundle")
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	conn, err := tls.Dial("tcp", "localhost:"+port, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// serving is the certificate r hands out.
func serving(t *testing.T, r *rotator) []byte {
	t.Helper()
	c, err := r.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Certificate[0]
}

func TestRotatorRenewsAfterTwoThirds(t *testing.T) {
	clk := pastClock()
	store := newStore(t)
	r := newReplica(store, clk)
	mustStart(t, r)
	first := published(t, store)
	if !bytes.Equal(first, stored(t, store).caPEM) || !bytes.Equal(r.CABundle(), first) {
		t.Fatal("start must publish the CA the Secret holds")
	}
	firstCert, err := handshake(t, r, first)
	if err != nil {
		t.Fatalf("handshake with the first CA: %v", err)
	}
	if got := firstCert.DNSNames; len(got) != 1 || got[0] != "localhost" || len(firstCert.IPAddresses) != 1 {
		t.Errorf("certificate names = %v %v, want localhost and 127.0.0.1", got, firstCert.IPAddresses)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go r.run(ctx)
	for start := time.Now(); !clk.HasWaiters(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the rotator never started its ticker")
		}
	}
	clk.Step(2 * time.Hour) // past two thirds of 3h
	waitFor(t, "the renewed bundle", func() bool { return !bytes.Equal(r.CABundle(), first) })
	renewed := published(t, store)
	if !bytes.HasSuffix(renewed, first) || bytes.Equal(renewed, first) {
		t.Fatal("renewal must publish the new CA followed by the old one")
	}
	if !bytes.Equal(r.CABundle(), renewed) {
		t.Error("CABundle differs from what was published")
	}
	held := stored(t, store)
	if !bytes.Equal(held.prevPEM, first) || !bytes.Equal(renewed, held.bundle(clk.Now())) {
		t.Error("the Secret must keep the old CA as the previous one")
	}
	secondCert, err := handshake(t, r, held.caPEM)
	if err != nil {
		t.Fatalf("handshake with the new CA: %v", err)
	}
	if secondCert.SerialNumber.Cmp(firstCert.SerialNumber) == 0 {
		t.Error("the served certificate did not change")
	}
	if _, err := handshake(t, r, first); err == nil {
		t.Error("the old CA alone still verifies the renewed certificate")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
	}
}

// TestReplicasShareOneCertificate starts a second replica while the first is creating the
// Secret: the second's create fails, and it serves the first's certificate.
func TestReplicasShareOneCertificate(t *testing.T) {
	clk := pastClock()
	store := newStore(t)
	a := newReplica(store, clk)
	raced := false
	b := newReplica(interceptor.NewClient(store, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			raced = true
			mustStart(t, a) // a creates the Secret between b's read and b's create
			return c.Create(ctx, obj, opts...)
		},
	}), clk)
	mustStart(t, b)
	if !raced {
		t.Fatal("b never tried to create the Secret")
	}
	bundle := published(t, store)
	if !bytes.Equal(a.CABundle(), bundle) || !bytes.Equal(b.CABundle(), bundle) {
		t.Error("the replicas' bundles differ from the published one")
	}
	if !bytes.Equal(serving(t, a), serving(t, b)) {
		t.Error("the replicas serve different certificates")
	}
	for name, r := range map[string]*rotator{"a": a, "b": b} {
		if _, err := handshake(t, r, bundle); err != nil {
			t.Errorf("replica %s does not verify against the published bundle: %v", name, err)
		}
	}
}

// TestRenewalPickedUp: a replica serves the certificate another renewed at its next tick, and
// only after the bundle that trusts it is published.
func TestRenewalPickedUp(t *testing.T) {
	clkA, clkB := pastClock(), pastClock()
	store := newStore(t)
	a, b := newReplica(store, clkA), newReplica(store, clkB)
	mustStart(t, a)
	mustStart(t, b)
	old := serving(t, b)

	clkA.Step(2 * time.Hour)
	mustTick(t, a)
	renewed := stored(t, store)
	if bytes.Equal(renewed.cert.Certificate[0], old) {
		t.Fatal("a did not renew")
	}
	if !bytes.Equal(serving(t, b), old) {
		t.Fatal("b changed its certificate without a tick")
	}
	if _, err := handshake(t, b, published(t, store)); err != nil {
		t.Errorf("b's old certificate must still verify against the renewed bundle: %v", err)
	}
	clkB.Step(time.Minute) // one resync: not due for b, whose clock is 2h behind a's
	mustTick(t, b)
	if !bytes.Equal(serving(t, b), renewed.cert.Certificate[0]) {
		t.Error("b does not serve the renewed certificate after one resync")
	}
	if !bytes.Equal(stored(t, store).certPEM, renewed.certPEM) {
		t.Error("b renewed again")
	}
}

// TestConcurrentRenewal: two replicas due at once; the one whose update conflicts serves what
// the other wrote.
func TestConcurrentRenewal(t *testing.T) {
	clk := pastClock()
	store := newStore(t)
	a := newReplica(store, clk)
	mustStart(t, a)
	original := stored(t, store)
	conflicted := false
	b := newReplica(interceptor.NewClient(store, interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*corev1.Secret); ok && !conflicted {
				conflicted = true
				mustTick(t, a) // a renews between b's read and b's update
			}
			return c.Update(ctx, obj, opts...)
		},
	}), clk)
	mustStart(t, b)
	clk.Step(2 * time.Hour)
	mustTick(t, b)
	if !conflicted {
		t.Fatal("b never tried to renew")
	}
	held := stored(t, store)
	if !bytes.Equal(held.prevPEM, original.caPEM) {
		t.Error("the Secret's previous CA is not the original one: renewed twice")
	}
	if !bytes.Equal(serving(t, a), held.cert.Certificate[0]) || !bytes.Equal(serving(t, b), held.cert.Certificate[0]) {
		t.Error("the replicas do not both serve the renewed certificate")
	}
	if !bytes.Equal(published(t, store), held.bundle(clk.Now())) {
		t.Error("the published bundle is not the Secret's")
	}
}

// TestTrustFirst: while the renewed bundle cannot be published, the old certificate is served.
func TestTrustFirst(t *testing.T) {
	clk := pastClock()
	store := newStore(t)
	refuse := false
	r := newReplica(interceptor.NewClient(store, interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration); ok && refuse {
				return errors.New("refused")
			}
			return c.Update(ctx, obj, opts...)
		},
	}), clk)
	mustStart(t, r)
	old := serving(t, r)
	refuse = true
	clk.Step(2 * time.Hour)
	if err := r.tick(t.Context()); err == nil {
		t.Fatal("tick reported no error while publishing failed")
	}
	if bytes.Equal(stored(t, store).certPEM, old) {
		t.Fatal("the Secret was not renewed")
	}
	if !bytes.Equal(serving(t, r), old) {
		t.Fatal("the renewed certificate is served before its CA is published")
	}
	refuse = false
	mustTick(t, r)
	if bytes.Equal(serving(t, r), old) {
		t.Error("the renewed certificate is not served once its CA is published")
	}
}

// TestStaleReplicaDoesNotUnpublish: a replica that read the Secret before another renewed it
// must not write its older bundle over the renewed one, whether the other's renewal lands
// before its read of the configuration or before its update of it.
func TestStaleReplicaDoesNotUnpublish(t *testing.T) {
	for _, at := range []string{"get", "update"} {
		t.Run("other replica renews before "+at, func(t *testing.T) {
			clkA, clkB := pastClock(), pastClock()
			store := newStore(t)
			b := newReplica(store, clkB)
			raced := false
			race := func(obj client.Object) {
				if _, ok := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration); ok && raced {
					raced = false
					mustTick(t, b) // b renews and publishes between a's read of the Secret and this call
				}
			}
			funcs := interceptor.Funcs{}
			if at == "get" {
				funcs.Get = func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					race(obj)
					return c.Get(ctx, key, obj, opts...)
				}
			} else {
				funcs.Update = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					race(obj)
					return c.Update(ctx, obj, opts...)
				}
			}
			a := newReplica(interceptor.NewClient(store, funcs), clkA)
			mustStart(t, a)
			mustStart(t, b)
			clearBundle(t, store) // so a has something to publish
			raced = true
			clkB.Step(2 * time.Hour)
			mustTick(t, a)
			if raced {
				t.Fatal("b never renewed")
			}
			held := stored(t, store)
			if want := held.bundle(clkB.Now()); !bytes.Equal(published(t, store), want) {
				t.Error("the published bundle lacks the renewed CA b serves")
			}
			if !bytes.Equal(serving(t, a), held.cert.Certificate[0]) {
				t.Error("a does not serve the renewed certificate")
			}
		})
	}
}

// clearBundle removes the caBundle, as re-applying the manifest does.
func clearBundle(t *testing.T, c client.Client) {
	t.Helper()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(t.Context(), client.ObjectKey{Name: testConfiguration}, &vwc); err != nil {
		t.Fatal(err)
	}
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig.CABundle = nil
	}
	if err := c.Update(t.Context(), &vwc); err != nil {
		t.Fatal(err)
	}
}

func TestRepublishesAfterReapply(t *testing.T) {
	store := newStore(t)
	r := newReplica(store, pastClock())
	mustStart(t, r)
	want := published(t, store)
	clearBundle(t, store)
	mustTick(t, r)
	if !bytes.Equal(published(t, store), want) {
		t.Error("the bundle was not published again")
	}
}

// TestSecretRepaired: a Secret that holds no usable certificate is replaced, and one deleted is
// created again, still trusting the CA served before.
func TestSecretRepaired(t *testing.T) {
	store := newStore(t)
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testSecret.Namespace, Name: testSecret.Name},
		Data: map[string][]byte{keyCert: []byte("garbage"), keyKey: []byte("garbage")}}
	if err := store.Create(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	r := newReplica(store, pastClock())
	mustStart(t, r)
	first := stored(t, store)
	if err := store.Delete(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	mustTick(t, r)
	again := stored(t, store)
	if bytes.Equal(again.caPEM, first.caPEM) {
		t.Error("the deleted Secret was not created anew")
	}
	if !bytes.Equal(again.prevPEM, first.caPEM) {
		t.Error("the Secret created anew does not keep the CA served before as the previous one")
	}
	if !bytes.Equal(published(t, store), r.CABundle()) {
		t.Error("the new Secret's CA is not published")
	}
}

// TestNamesAreAdded: a replica that needs a name the certificate lacks renews it with every
// name, so a replica still configured with fewer names does not renew it back.
func TestNamesAreAdded(t *testing.T) {
	clk := pastClock()
	store := newStore(t)
	older, newer := newReplica(store, clk, "localhost"), newReplica(store, clk, "localhost", "127.0.0.1")
	mustStart(t, older)
	mustStart(t, newer)
	held := stored(t, store)
	if got := held.hosts(); len(got) != 2 {
		t.Fatalf("certificate names %v, want localhost and 127.0.0.1", got)
	}
	mustTick(t, older)
	if !bytes.Equal(stored(t, store).certPEM, held.certPEM) {
		t.Error("the replica with fewer names renewed the certificate")
	}
}

func TestCerts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old, err := issue([]string{"localhost"}, t0, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	next, err := issue([]string{"localhost"}, t0.Add(2*time.Hour), 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	next = old.succeededBy(next, t0.Add(2*time.Hour))
	both := append(bytes.Clone(next.caPEM), old.caPEM...)
	tests := map[string]struct {
		c           *certs
		now         time.Time
		hosts       []string
		wantRenewal string
		wantBundle  []byte
	}{
		"fresh":                         {old, t0, []string{"localhost"}, "", old.caPEM},
		"just before two thirds":        {old, t0.Add(2*time.Hour - time.Second), nil, "", old.caPEM},
		"at two thirds":                 {old, t0.Add(2 * time.Hour), nil, "due", old.caPEM},
		"a name it lacks":               {old, t0, []string{"localhost", "ebb.svc"}, "not valid for ebb.svc", old.caPEM},
		"renewed, old CA still valid":   {next, t0.Add(2 * time.Hour), nil, "", both},
		"renewed, old CA expired":       {next, t0.Add(3 * time.Hour), nil, "", next.caPEM},
		"an expired CA is not previous": {old.succeededBy(next, t0.Add(3*time.Hour)), t0.Add(3 * time.Hour), nil, "", next.caPEM},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.c.renewal(tc.now, tc.hosts); got != tc.wantRenewal {
				t.Errorf("renewal = %q, want %q", got, tc.wantRenewal)
			}
			if got := tc.c.bundle(tc.now); !bytes.Equal(got, tc.wantBundle) {
				t.Errorf("bundle has %d bytes, want %d", len(got), len(tc.wantBundle))
			}
			back, err := parseCerts(tc.c.data())
			if err != nil || !bytes.Equal(back.bundle(tc.now), tc.wantBundle) {
				t.Errorf("data does not read back: %v", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"no names":          {Config{}, "webhook: DNSNames must name at least one host for the serving certificate"},
		"negative validity": {Config{DNSNames: []string{"x"}, CertValidity: -1}, "webhook: CertValidity and Resync must not be negative"},
		"fine":              {Config{DNSNames: []string{"x"}}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ""
			if err := tc.cfg.Validate(); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate = %q, want %q", got, tc.want)
			}
		})
	}
}
