package webhook

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// clockSkew backdates every certificate, so an API server whose clock is a little behind
// still accepts a fresh one.
const clockSkew = time.Minute

// Keys of the Secret that holds the certificates. tls.crt and tls.key are what a
// kubernetes.io/tls Secret must hold; the CAs' keys are never stored: each renewal issues a
// new CA along with the new certificate.
const (
	keyCert       = "tls.crt"
	keyKey        = "tls.key"
	keyCA         = "ca.crt"
	keyPreviousCA = "previous-ca.crt"
)

// certs is one serving certificate, the CA that signed it, and the CA before that one while a
// client may still trust only it.
type certs struct {
	cert     tls.Certificate // Leaf set
	certPEM  []byte
	keyPEM   []byte
	ca       *x509.Certificate
	caPEM    []byte
	previous *x509.Certificate // nil when there is none
	prevPEM  []byte
}

// issue creates a fresh CA and a serving certificate for hosts (DNS names or IP addresses),
// valid from now (less clockSkew) for validity.
func issue(hosts []string, now time.Time, validity time.Duration) (*certs, error) {
	notBefore, notAfter := now.Add(-clockSkew), now.Add(validity)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ebb-webhook-ca"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: firstOr(hosts, "ebb-webhook")},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode serving key: %w", err)
	}
	return parseCerts(map[string][]byte{
		keyCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		keyCA:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
	})
}

// parseCerts reads a Secret's data. The certificate must match its key and chain to the CA;
// the previous CA is optional. Errors never quote the data.
func parseCerts(data map[string][]byte) (*certs, error) {
	cert, err := tls.X509KeyPair(data[keyCert], data[keyKey])
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", keyCert, keyKey, err)
	}
	c := &certs{cert: cert, certPEM: data[keyCert], keyPEM: data[keyKey], caPEM: data[keyCA]}
	if c.ca, err = parsePEM(data[keyCA]); err != nil {
		return nil, fmt.Errorf("%s: %w", keyCA, err)
	}
	if err := cert.Leaf.CheckSignatureFrom(c.ca); err != nil {
		return nil, fmt.Errorf("%s is not signed by %s: %w", keyCert, keyCA, err)
	}
	if prev := data[keyPreviousCA]; len(prev) > 0 {
		if c.previous, err = parsePEM(prev); err != nil {
			return nil, fmt.Errorf("%s: %w", keyPreviousCA, err)
		}
		c.prevPEM = prev
	}
	return c, nil
}

// parsePEM reads the one certificate of a PEM block.
func parsePEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// data is what the Secret holds for c.
func (c *certs) data() map[string][]byte {
	d := map[string][]byte{keyCert: c.certPEM, keyKey: c.keyPEM, keyCA: c.caPEM}
	if c.previous != nil {
		d[keyPreviousCA] = c.prevPEM
	}
	return d
}

// succeededBy is next with c's CA as its previous one while that has not expired, so
// connections that verify with the bundle published before next's keep working.
func (c *certs) succeededBy(next *certs, now time.Time) *certs {
	n := *next
	n.previous, n.prevPEM = nil, nil
	if now.Before(c.ca.NotAfter) {
		n.previous, n.prevPEM = c.ca, c.caPEM
	}
	return &n
}

// renewAt is two thirds into the certificate's validity, counted from its issue.
func (c *certs) renewAt() time.Time {
	issued := c.cert.Leaf.NotBefore.Add(clockSkew)
	return issued.Add(c.cert.Leaf.NotAfter.Sub(issued) * 2 / 3)
}

// bundle is the caBundle to publish: the current CA, then the previous one until it expires.
func (c *certs) bundle(now time.Time) []byte {
	if c.previous == nil || !now.Before(c.previous.NotAfter) {
		return c.caPEM
	}
	return bytes.Join([][]byte{c.caPEM, c.prevPEM}, nil)
}

// hosts are the DNS names and IP addresses the certificate is valid for.
func (c *certs) hosts() []string {
	hosts := slices.Clone(c.cert.Leaf.DNSNames)
	for _, ip := range c.cert.Leaf.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

// renewal says why c must be replaced at now to serve hosts, or "" when it need not be.
func (c *certs) renewal(now time.Time, hosts []string) string {
	if !now.Before(c.renewAt()) {
		return "due"
	}
	for _, h := range hosts {
		if c.cert.Leaf.VerifyHostname(h) != nil {
			return "not valid for " + h
		}
	}
	return ""
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}
