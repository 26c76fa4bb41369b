package scaler

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// tlsSettings are a trigger's TLS client parameters, as PEM text from a TriggerAuthentication.
type tlsSettings struct {
	CA          string // trusted roots; the system's when empty
	Cert, Key   string // a client certificate, optional
	KeyPassword string // decrypts a legacy encrypted PEM key
	UnsafeSSL   bool   // skip verifying the server's certificate
}

// parts identify the settings in a pool Key.
func (s tlsSettings) parts() []string {
	return []string{s.CA, s.Cert, s.Key, s.KeyPassword, fmt.Sprint(s.UnsafeSSL)}
}

// config builds the client TLS configuration. Errors never quote the PEM text.
func (s tlsSettings) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.UnsafeSSL}
	if s.CA != "" {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(s.CA)) {
			return nil, errors.New("ca: no PEM certificate found")
		}
		cfg.RootCAs = roots
	}
	if s.Cert == "" && s.Key == "" {
		return cfg, nil
	}
	key, err := decryptKey([]byte(s.Key), s.KeyPassword)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair([]byte(s.Cert), key)
	if err != nil {
		return nil, fmt.Errorf("cert and key: %w", err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// decryptKey returns key as plain PEM, decrypting a legacy encrypted PEM block (the
// "Proc-Type: 4,ENCRYPTED" kind KEDA's keyPassword is used with).
func decryptKey(key []byte, password string) ([]byte, error) {
	block, _ := pem.Decode(key)
	if block == nil {
		return nil, errors.New("key: no PEM block found")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("key: encrypted PKCS#8 keys are not supported; use an unencrypted key or a legacy encrypted PEM key")
	}
	//lint:ignore SA1019 legacy PEM encryption is what keyPassword exists for
	if !x509.IsEncryptedPEMBlock(block) {
		return key, nil
	}
	if password == "" {
		return nil, errors.New("key: encrypted, but no keyPassword is set")
	}
	//lint:ignore SA1019 legacy PEM encryption is what keyPassword exists for
	der, err := x509.DecryptPEMBlock(block, []byte(password))
	if err != nil {
		return nil, fmt.Errorf("key: decrypt with keyPassword: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}
