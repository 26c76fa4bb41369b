package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ebb.dev/bus"
)

// syncBuffer lets the test read what the command prints while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBusCommandServesUsersFromSecretFiles(t *testing.T) {
	users := t.TempDir()
	if err := os.WriteFile(filepath.Join(users, "tap.password"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runBus(ctx, []string{"-host", "127.0.0.1", "-port", port, "-http-port", "0",
			"-store-dir", t.TempDir(), "-users-dir", users, "-log-format", "text"}, &out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ebb bus: %v", err)
		}
	})
	for !strings.Contains(out.String(), "ready at") {
		select {
		case err := <-done:
			t.Fatalf("ebb bus ended before it was ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}

	dial := func(password string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := bus.Connect(ctx, bus.ClientConfig{URL: "nats://127.0.0.1:" + port, User: "tap", Password: password})
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial("s3cret"); err != nil {
		t.Errorf("tap with the Secret's password: %v", err)
	}
	if err := dial("wrong"); err == nil {
		t.Error("tap with a wrong password was let in")
	}
}

func TestBusCommandNeedsUsers(t *testing.T) {
	err := runBus(t.Context(), []string{"-users-dir", filepath.Join(t.TempDir(), "missing"), "-store-dir", t.TempDir()}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "load bus users") {
		t.Errorf("error = %v, want one about loading bus users", err)
	}
}
