package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// goRuntime is what a service's Prometheus endpoint says of its Go runtime: where its
// anonymous memory goes.
type goRuntime struct {
	Goroutines float64
	HeapInuse  float64 // bytes in spans holding objects, live or not yet swept
	StackInuse float64 // goroutine stacks
	NextGC     float64 // heap size at which the next GC runs: twice the live heap at GOGC=100
}

// goRuntimeMetrics are the series read into goRuntime.
var goRuntimeMetrics = map[string]func(*goRuntime) *float64{
	"go_goroutines":                 func(g *goRuntime) *float64 { return &g.Goroutines },
	"go_memstats_heap_inuse_bytes":  func(g *goRuntime) *float64 { return &g.HeapInuse },
	"go_memstats_stack_inuse_bytes": func(g *goRuntime) *float64 { return &g.StackInuse },
	"go_memstats_next_gc_bytes":     func(g *goRuntime) *float64 { return &g.NextGC },
}

// scrapeGoRuntime reads the Go runtime series from the /metrics of process pid, at the
// address its -metrics-bind-address flag gives (the last one on its command line).
func scrapeGoRuntime(ctx context.Context, pid int) (goRuntime, error) {
	var g goRuntime
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return g, err
	}
	addr := flagValue(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), "metrics-bind-address")
	if addr == "" || addr == "0" || strings.HasPrefix(addr, ":") {
		return g, fmt.Errorf("pid %d serves no metrics on loopback (-metrics-bind-address %q)", pid, addr)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return g, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return g, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return g, fmt.Errorf("scrape %s: %s", addr, resp.Status)
	}
	return parseGoRuntime(resp.Body)
}

// parseGoRuntime reads goRuntimeMetrics out of a Prometheus text exposition.
func parseGoRuntime(r io.Reader) (goRuntime, error) {
	var g goRuntime
	found := 0
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), " ")
		field := goRuntimeMetrics[name]
		if !ok || field == nil {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return g, fmt.Errorf("%s %q: %w", name, value, err)
		}
		*field(&g) = v
		found++
	}
	if err := s.Err(); err != nil {
		return g, err
	}
	if found != len(goRuntimeMetrics) {
		return g, fmt.Errorf("%d of the %d Go runtime series found", found, len(goRuntimeMetrics))
	}
	return g, nil
}

// flagValue is the value of the last -name or --name on a command line, written
// "-name value" or "-name=value"; "" when absent.
func flagValue(args []string, name string) string {
	v := ""
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if n, val, ok := strings.Cut(a, "="); ok && n == name {
			v = val
		} else if a == name && i+1 < len(args) {
			v = args[i+1]
		}
	}
	return v
}
