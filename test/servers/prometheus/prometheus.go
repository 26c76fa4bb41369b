package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ebb.dev/test/proc"
	"ebb.dev/test/servers"
)

const serverBin = "prometheus"

// Job is the scrape job every target belongs to, so queries can select job="ebb-test".
const Job = "ebb-test"

// Options configure a server.
type Options struct {
	// Targets are the host:port addresses scraped at /metrics over HTTP.
	Targets []string
	// ScrapeInterval is how often targets are scraped; 1 s when zero.
	ScrapeInterval time.Duration
	// StartTimeout bounds the start; 30 s when zero.
	StartTimeout time.Duration
}

// Server is a running Prometheus.
type Server struct {
	Port int // on 127.0.0.1

	proc *proc.Process
}

// StartT starts a server in t.TempDir and stops it when the test ends; it fails t if the
// server does not come up.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	return servers.StartT(t, "prometheus", func() (*Server, error) { return Start(context.Background(), dir, opts) })
}

// Start starts a server with its config and TSDB in dir and returns once it is ready to serve
// queries (its first scrape comes later: see WaitScraped). The caller must Stop it.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	s := &Server{Port: ports[0]}
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(config(opts)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(serverBin,
		"--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		"--log.level=warn")
	s.proc, err = proc.Start("prometheus", cmd, filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// config is a prometheus.yml scraping the targets in one job.
func config(opts Options) string {
	interval := opts.ScrapeInterval
	if interval == 0 {
		interval = time.Second
	}
	targets := make([]string, len(opts.Targets))
	for i, t := range opts.Targets {
		targets[i] = strconv.Quote(t)
	}
	return fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
  - job_name: %[2]s
    scrape_interval: %[1]s
    scrape_timeout: %[1]s
    static_configs:
      - targets: [%[3]s]
`, interval, Job, strings.Join(targets, ", "))
}

func (s *Server) waitReady(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := s.proc.WaitTCP(ctx, s.Port); err != nil {
			return err // the process exited or ctx ended
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready: %w; log:\n%s", ctx.Err(), s.proc.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL is the server's base URL, as a prometheus trigger's serverAddress.
func (s *Server) URL() string { return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// WaitScraped waits until every target has been scraped successfully (up is 1).
func (s *Server) WaitScraped(ctx context.Context, targets int) error {
	query := fmt.Sprintf(`count(up{job=%q} == 1) == %d`, Job, targets)
	for {
		n, err := s.Query(ctx, query)
		if err == nil && n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("targets not scraped (last query: %d samples, %v): %w", n, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Query runs an instant query and returns how many samples came back.
func (s *Server) Query(ctx context.Context, query string) (int, error) {
	u := s.URL() + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("query %q: %w", query, err)
	}
	if out.Status != "success" {
		return 0, fmt.Errorf("query %q: %s", query, out.Error)
	}
	return len(out.Data.Result), nil
}

// PID is the server's process ID.
func (s *Server) PID() int { return s.proc.PID() }

// Stop stops the server (SIGTERM, then SIGKILL after 20 s). Calling it again does nothing.
func (s *Server) Stop() error {
	return s.proc.Stop(syscall.SIGTERM, 20*time.Second)
}
