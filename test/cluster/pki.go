package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate and its private key, in memory and as PEM files on disk.
type keyPair struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certPEM  []byte
	keyPEM   []byte
	CertFile string
	KeyFile  string
}

// pki is every certificate and key the control plane needs. The three CAs are separate, as in a
// real cluster, so that a front-proxy certificate can never pass as a user.
type pki struct {
	ServingCA       *keyPair // signs the API server's serving certificate
	Serving         *keyPair
	ClientCA        *keyPair // signs users: admin and the controller manager
	Admin           *keyPair
	ControllerMgr   *keyPair
	FrontProxyCA    *keyPair // the aggregation layer's requestheader CA
	FrontProxy      *keyPair
	ServiceAccount  *keyPair // signs service-account tokens; only the key is used
	ServiceAcctPub  string
	ServiceAcctPriv string
}

func newPKI(dir string) (*pki, error) {
	p := &pki{}
	var err error
	steps := []struct {
		name string
		out  **keyPair
		tmpl func() *x509.Certificate
		ca   **keyPair
	}{
		{"serving-ca", &p.ServingCA, caTemplate("ebb-serving-ca"), nil},
		{"serving", &p.Serving, servingTemplate, &p.ServingCA},
		{"client-ca", &p.ClientCA, caTemplate("ebb-client-ca"), nil},
		{"admin", &p.Admin, clientTemplate("ebb-admin", "system:masters"), &p.ClientCA},
		{"controller-manager", &p.ControllerMgr, clientTemplate("system:kube-controller-manager"), &p.ClientCA},
		{"front-proxy-ca", &p.FrontProxyCA, caTemplate("ebb-front-proxy-ca"), nil},
		{"front-proxy-client", &p.FrontProxy, clientTemplate("front-proxy-client"), &p.FrontProxyCA},
		{"service-account", &p.ServiceAccount, caTemplate("ebb-service-account"), nil},
	}
	for _, s := range steps {
		var issuer *keyPair
		if s.ca != nil {
			issuer = *s.ca
		}
		if *s.out, err = issue(dir, s.name, s.tmpl(), issuer); err != nil {
			return nil, fmt.Errorf("issue %s certificate: %w", s.name, err)
		}
	}
	p.ServiceAcctPriv = p.ServiceAccount.KeyFile
	p.ServiceAcctPub = filepath.Join(dir, "service-account.pub")
	der, err := x509.MarshalPKIXPublicKey(&p.ServiceAccount.key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("marshal service-account public key: %w", err)
	}
	if err := os.WriteFile(p.ServiceAcctPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func caTemplate(cn string) func() *x509.Certificate {
	return func() *x509.Certificate {
		return &x509.Certificate{
			Subject:               pkix.Name{CommonName: cn},
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
	}
}

func servingTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

func clientTemplate(user string, groups ...string) func() *x509.Certificate {
	return func() *x509.Certificate {
		return &x509.Certificate{
			Subject:     pkix.Name{CommonName: user, Organization: groups},
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
	}
}

// issue signs tmpl with ca (self-signed when ca is nil) and writes <name>.crt and <name>.key.
func issue(dir, name string, tmpl *x509.Certificate, ca *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{
		cert:     cert,
		key:      key,
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		CertFile: filepath.Join(dir, name+".crt"),
		KeyFile:  filepath.Join(dir, name+".key"),
	}
	if err := os.WriteFile(kp.CertFile, kp.certPEM, 0o600); err != nil {
		return nil, err
	}
	return kp, os.WriteFile(kp.KeyFile, kp.keyPEM, 0o600)
}
