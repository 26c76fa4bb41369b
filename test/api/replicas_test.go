package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"

	"ebb.dev/services/actuator/webhook"
)

// resync is the replicas' resync period, on their fake clocks.
const resync = time.Minute

// TestWebhookReplicas runs two webhook servers at once against one API server, as the ha
// overlay's two actuators do: they share one CA through the Secret, the API server's calls
// verify whichever of them answers, and a renewal by one is served by the other after one
// resync. Each replica's clock is fake (starting 2h1m ago, certificates valid 3h), so renewal
// comes when the test says and every certificate is valid in real time.
func TestWebhookReplicas(t *testing.T) {
	e := newEnv(t)
	a, b := listen(t), listen(t)
	registerWebhook(t, e, a.base())
	clkA := clocktesting.NewFakeClock(time.Now().Add(-2*time.Hour - time.Minute))
	clkB := clocktesting.NewFakeClock(clkA.Now())
	cfg := webhookConfig()
	cfg.Resync, cfg.CertValidity = resync, 3*time.Hour
	srvA := serveWebhook(t, e.cluster, a, cfg, webhook.WithClock(clkA))
	srvB := serveWebhook(t, e.cluster, b, cfg, webhook.WithClock(clkB))
	for _, srv := range []*webhook.Server{srvA, srvB} {
		poll(t, "the replica serving", func(context.Context) (bool, error) { return srv.CABundle() != nil, nil })
	}

	first := stored(t, e)
	bundle := published(t, e)
	if !bytes.Equal(bundle, first["ca.crt"]) || !bytes.Equal(srvA.CABundle(), bundle) || !bytes.Equal(srvB.CABundle(), bundle) {
		t.Fatal("the replicas did not publish the one CA the Secret holds")
	}
	for name, ln := range map[string]*countingListener{"a": a, "b": b} {
		if leaf := verify(t, ln, bundle); !bytes.Equal(leaf, pemDER(t, first["tls.crt"])) {
			t.Errorf("replica %s does not serve the Secret's certificate", name)
		}
	}
	answeredBy(t, e, a, "first-a")
	pointAt(t, e, b) // without publishing anything: b must verify with the bundle a published
	answeredBy(t, e, b, "first-b")

	// b renews; a goes on serving the old certificate, which the bundle still trusts.
	step(t, clkB, 2*time.Hour)
	poll(t, "b's renewal published", func(context.Context) (bool, error) {
		return !bytes.Equal(published(t, e), bundle), nil
	})
	renewed := stored(t, e)
	if want := append(bytes.Clone(renewed["ca.crt"]), first["ca.crt"]...); !bytes.Equal(published(t, e), want) ||
		!bytes.Equal(renewed["previous-ca.crt"], first["ca.crt"]) {
		t.Fatal("the renewed bundle is not the new CA followed by the old one")
	}
	if leaf := verify(t, b, renewed["ca.crt"]); !bytes.Equal(leaf, pemDER(t, renewed["tls.crt"])) {
		t.Error("b does not serve its renewed certificate")
	}
	if leaf := verify(t, a, published(t, e)); !bytes.Equal(leaf, pemDER(t, first["tls.crt"])) {
		t.Error("a changed its certificate before its resync")
	}
	pointAt(t, e, a)
	answeredBy(t, e, a, "old-a")

	// One resync later a serves the renewed certificate.
	step(t, clkA, resync)
	poll(t, "a serving the renewed certificate", func(context.Context) (bool, error) {
		return bytes.Equal(verify(t, a, published(t, e)), pemDER(t, renewed["tls.crt"])), nil
	})
	verify(t, a, renewed["ca.crt"])
	answeredBy(t, e, a, "renewed-a")
	if !bytes.Equal(stored(t, e)["tls.crt"], renewed["tls.crt"]) {
		t.Error("a renewed the certificate again")
	}
}

// countingListener is one replica's listener; it counts the reads of data on the connections
// it accepts, so a call on a connection kept alive counts too.
type countingListener struct {
	net.Listener
	reads atomic.Int64
}

func listen(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &countingListener{Listener: ln}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, reads: &l.reads}, nil
}

type countingConn struct {
	net.Conn
	reads *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

func (l *countingListener) base() string { return "https://" + l.Addr().String() }

// step moves clk by d once the replica's resync ticker waits on it.
func step(t *testing.T, clk *clocktesting.FakeClock, d time.Duration) {
	t.Helper()
	poll(t, "the resync ticker", func(context.Context) (bool, error) { return clk.HasWaiters(), nil })
	clk.Step(d)
}

// stored is the data of the Secret the replicas share.
func stored(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	s, err := e.kube.CoreV1().Secrets(webhook.DefaultSecretNamespace).Get(t.Context(), webhook.DefaultSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Data
}

// published is the caBundle of the configuration's webhooks, which must all agree.
func published(t *testing.T, e *env) []byte {
	t.Helper()
	vwc, err := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), configuration, metav1.GetOptions{})
	if err != nil {
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

// pointAt sends every webhook of the configuration to ln, leaving the caBundle as it is.
func pointAt(t *testing.T, e *env, ln *countingListener) {
	t.Helper()
	vwcs := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vwc, err := vwcs.Get(t.Context(), configuration, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i := range vwc.Webhooks {
			u, err := url.Parse(*vwc.Webhooks[i].ClientConfig.URL)
			if err != nil {
				return err
			}
			u.Host = ln.Addr().String()
			vwc.Webhooks[i].ClientConfig.URL = new(u.String())
		}
		_, err = vwcs.Update(t.Context(), vwc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// answeredBy checks that the API server calls the replica behind ln: once ln has read from a
// connection (the configuration names it), a ScaledObject without its queue is denied and one
// with it is admitted. A replica whose certificate the published bundle does not verify is
// reached but never answers.
func answeredBy(t *testing.T, e *env, ln *countingListener, name string) {
	t.Helper()
	before := ln.reads.Load()
	e.deployment(t, name, true)
	bad := manifest(t, doc("ScaledObject", name+"-bad", `{scaleTargetRef: {name: `+name+`}, triggers: [{type: rabbitmq, metadata: {hostFromEnv: H}}]}`))
	var last error
	poll(t, "a denial from the replica at "+ln.Addr().String(), func(ctx context.Context) (bool, error) {
		reached := ln.reads.Load() > before // the configuration names ln: this call goes there
		last = e.create(ctx, bad)
		if last == nil {
			t.Fatal("the API server admitted a ScaledObject without queueName")
		}
		return reached && strings.Contains(last.Error(), denySO+"spec.triggers[0].metadata.queueName: Required value"), nil
	})
	good := manifest(t, doc("ScaledObject", name, `{scaleTargetRef: {name: `+name+`}, triggers: [`+rabbit+`]}`))
	if err := e.create(t.Context(), good); err != nil {
		t.Errorf("create ScaledObject %s through the replica at %s: %v", name, ln.Addr(), err)
	}
}

// verify dials ln trusting only roots, as the API server does, and returns the certificate
// served. Call it only before answeredBy, whose count of reads it would spoil.
func verify(t *testing.T, ln *countingListener, roots []byte) []byte {
	t.Helper()
	leaf, err := dial(ln, roots)
	if err != nil {
		t.Fatalf("the replica at %s does not verify: %v", ln.Addr(), err)
	}
	return leaf
}

func dial(ln *countingListener, roots []byte) ([]byte, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(roots)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(),
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw, nil
}

func pemDER(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}
