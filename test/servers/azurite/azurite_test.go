package azurite

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() }) // when a check below fails; Stop is idempotent
	// An unauthenticated request reaches the service, which refuses it in Azure's own terms.
	resp, err := http.Get(s.ServiceURL() + "?comp=list")
	if err != nil {
		t.Fatalf("GET the service: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AuthenticationFailed</Code>") {
		t.Errorf("anonymous list: %s %s, want 403 AuthenticationFailed", resp.Status, body)
	}
	if want := "QueueEndpoint=http://127.0.0.1:" + strconv.Itoa(s.Port) + "/devstoreaccount1;"; !strings.Contains(s.ConnectionString(), want) {
		t.Errorf("ConnectionString %q lacks %q", s.ConnectionString(), want)
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
