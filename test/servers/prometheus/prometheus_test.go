package prometheus

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStartScrapeStop(t *testing.T) {
	exposition := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE queue_depth gauge")
		fmt.Fprintln(w, `queue_depth{queue="orders"} 7`)
	}))
	defer exposition.Close()
	s, err := Start(context.Background(), t.TempDir(), Options{Targets: []string{strings.TrimPrefix(exposition.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitScraped(ctx, 1); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		query string
		want  int
	}{
		"the scraped series":  {query: `queue_depth{queue="orders"} == 7`, want: 1},
		"an unknown metric":   {query: "no_such_metric", want: 0},
		"every series of job": {query: fmt.Sprintf(`up{job=%q}`, Job), want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := s.Query(ctx, tc.query)
			if err != nil || n != tc.want {
				t.Errorf("Query(%s) = %d, %v; want %d", tc.query, n, err, tc.want)
			}
		})
	}
	if _, err := s.Query(ctx, "sum("); err == nil {
		t.Error("a bad query returned no error")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL(), "http://"), time.Second); err == nil {
		c.Close()
		t.Error("prometheus still accepts connections after Stop")
	}
}
