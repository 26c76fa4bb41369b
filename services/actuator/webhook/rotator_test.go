package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

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

func TestRotatorRenewsAfterTwoThirds(t *testing.T) {
	// Start in the past so the renewed certificate, issued at fake now + 2h1m, is valid in real time.
	clk := clocktesting.NewFakeClock(time.Now().Add(-2*time.Hour - time.Minute))
	published := make(chan []byte, 10)
	r := &rotator{
		hosts: []string{"localhost", "127.0.0.1"}, validity: 3 * time.Hour, resync: time.Minute, clock: clk,
		publish: func(_ context.Context, b []byte) error { published <- b; return nil },
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.start(ctx); err != nil {
		t.Fatal(err)
	}
	first := <-published
	firstCert, err := handshake(t, r, first)
	if err != nil {
		t.Fatalf("handshake with the first CA: %v", err)
	}
	if got := firstCert.DNSNames; len(got) != 1 || got[0] != "localhost" || len(firstCert.IPAddresses) != 1 {
		t.Errorf("certificate names = %v %v, want localhost and 127.0.0.1", got, firstCert.IPAddresses)
	}

	go r.run(ctx)
	for start := time.Now(); !clk.HasWaiters(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the rotator never started its ticker")
		}
	}
	clk.Step(time.Minute) // before the due date: the same bundle is republished
	if got := <-published; !bytes.Equal(got, first) {
		t.Fatal("a tick before renewal published a different bundle")
	}
	clk.Step(2 * time.Hour) // past two thirds of 3h
	renewed := <-published
	if !bytes.HasSuffix(renewed, first) || bytes.Equal(renewed, first) {
		t.Fatal("renewal must publish the new CA followed by the old one")
	}
	newCA := renewed[:len(renewed)-len(first)]
	// The swap happens after publishing; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for bytes.Equal(r.CABundle(), first) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	secondCert, err := handshake(t, r, newCA)
	if err != nil {
		t.Fatalf("handshake with the new CA: %v", err)
	}
	if secondCert.SerialNumber.Cmp(firstCert.SerialNumber) == 0 {
		t.Error("the served certificate did not change")
	}
	if _, err := handshake(t, r, first); err == nil {
		t.Error("the old CA alone still verifies the renewed certificate")
	}
	if !bytes.Equal(r.CABundle(), renewed) {
		t.Error("CABundle differs from what was published")
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
