package scaler

import (
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestTLSSettings(t *testing.T) {
	p := newTestPKI(t)
	tests := map[string]struct {
		s       tlsSettings
		err     string
		handsOK bool // the handshake with a server requiring client certificates succeeds
	}{
		"ca, cert and key":              {s: tlsSettings{CA: string(p.CA), Cert: string(p.ClientCert), Key: string(p.ClientKey)}, handsOK: true},
		"encrypted key with password":   {s: tlsSettings{CA: string(p.CA), Cert: string(p.ClientCert), Key: string(p.encryptedClientKey(t, "pw")), KeyPassword: "pw"}, handsOK: true},
		"ca only: no client cert":       {s: tlsSettings{CA: string(p.CA)}},
		"unsafe without ca: no cert":    {s: tlsSettings{UnsafeSSL: true}},
		"encrypted key, wrong password": {s: tlsSettings{Cert: string(p.ClientCert), Key: string(p.encryptedClientKey(t, "pw")), KeyPassword: "nope"}, err: "key: decrypt with keyPassword"},
		"encrypted key, no password":    {s: tlsSettings{Cert: string(p.ClientCert), Key: string(p.encryptedClientKey(t, "pw"))}, err: "key: encrypted, but no keyPassword is set"},
		"ca not PEM":                    {s: tlsSettings{CA: "not a certificate"}, err: "ca: no PEM certificate found"},
		"key not PEM":                   {s: tlsSettings{Cert: string(p.ClientCert), Key: "secret-looking-text"}, err: "key: no PEM block found"},
		"cert and key do not match":     {s: tlsSettings{Cert: string(p.ServerCert), Key: string(p.ClientKey)}, err: "cert and key:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := tc.s.config()
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want prefix %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret-looking-text") || strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("error quotes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := handshake(t, p.serverTLS(t), cfg); (err == nil) != tc.handsOK {
				t.Errorf("handshake err = %v, want success %v", err, tc.handsOK)
			}
		})
	}
}

// handshake runs a TLS handshake between server and client over loopback.
func handshake(t *testing.T, server, client *tls.Config) error {
	l, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	serverErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer c.Close()
		serverErr <- c.(*tls.Conn).Handshake()
	}()
	client = client.Clone()
	client.ServerName = "localhost"
	c, err := tls.Dial("tcp", l.Addr().String(), client)
	if err == nil {
		// TLS 1.3 reports a rejected client certificate on the first read; a server that
		// accepted it just closes.
		_, err = c.Read(make([]byte, 1))
		if errors.Is(err, io.EOF) {
			err = nil
		}
		c.Close()
	}
	return errors.Join(err, <-serverErr)
}
