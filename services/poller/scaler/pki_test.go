package scaler

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// testPKI is a CA with a server certificate (localhost, 127.0.0.1) and a client certificate,
// all PEM encoded, made fresh for each test that needs TLS.
type testPKI struct {
	CA                    []byte
	ServerCert, ServerKey []byte
	ClientCert, ClientKey []byte
	caCert                *x509.Certificate
	caKey                 *ecdsa.PrivateKey
}

func newTestPKI(t testing.TB) testPKI {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ebb test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(der)
	p := testPKI{CA: pemBlock("CERTIFICATE", der), caCert: caCert, caKey: caKey}
	p.ServerCert, p.ServerKey = p.issue(t, 2, "localhost", x509.ExtKeyUsageServerAuth)
	p.ClientCert, p.ClientKey = p.issue(t, 3, "ebb-poller", x509.ExtKeyUsageClientAuth)
	return p
}

func (p testPKI) issue(t testing.TB, serial int64, name string, usage x509.ExtKeyUsage) (cert, key []byte) {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER)
}

// serverTLS is a server configuration that requires client certificates from the CA.
func (p testPKI) serverTLS(t testing.TB) *tls.Config {
	t.Helper()
	pair, err := tls.X509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.caCert)
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: roots, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

// encryptedClientKey is the client key in legacy encrypted PEM, as keyPassword expects.
func (p testPKI) encryptedClientKey(t testing.TB, password string) []byte {
	t.Helper()
	block, _ := pem.Decode(p.ClientKey)
	//lint:ignore SA1019 the legacy format is what keyPassword reads
	enc, err := x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte(password), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(enc)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func (p testPKI) roots() *x509.CertPool {
	roots := x509.NewCertPool()
	roots.AddCert(p.caCert)
	return roots
}

func (p testPKI) clientPair(t testing.TB) tls.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}
