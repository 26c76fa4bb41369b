package postgres

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), Options{Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() }) // when a check below fails; Stop is idempotent
	dir := s.dir
	ctx := context.Background()
	if err := s.SQL(ctx, "postgres", "CREATE DATABASE app; CREATE ROLE reader LOGIN PASSWORD 'pw'"); err != nil {
		t.Fatalf("SQL: %v", err)
	}
	if err := s.SQL(ctx, "app", "SELECT no_such_column FROM no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("a failing statement returned %v, want the server's error", err)
	}
	if got, want := s.URL("reader", "pw", "app"), "postgres://reader:pw@127.0.0.1:"+strconv.Itoa(s.Port)+"/app?sslmode=disable"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second); err == nil {
		c.Close()
		t.Error("port still accepts connections after Stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (stat: %v)", dir, err)
	}
}
