package mariadb

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() }) // when a check below fails; Stop is idempotent
	ctx := context.Background()
	if err := s.SQL(ctx, "CREATE DATABASE app; CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON app.* TO 'reader'@'%';"); err != nil {
		t.Fatalf("SQL: %v", err)
	}
	if err := s.SQL(ctx, "SELECT no_such_column FROM app.no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("a failing statement returned %v, want the server's error", err)
	}
	if got, want := s.DSN("reader", "pw", "app"), "reader:pw@tcp(127.0.0.1:"+strconv.Itoa(s.Port)+")/app"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
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
}
