package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Every activeEvery-th object of a fleet is active; the others stay below activation.
const activeEvery = 10

// Metric values the source serves, for a metrics-api trigger with targetValue fleetTarget and
// activationTargetValue fleetActivation: an active object reads between 10 and 89, so the
// HPA's count stays at one replica; an idle one reads 0 to 4, under the activation threshold.
const (
	fleetTarget     = 100
	fleetActivation = 5
)

// metricSource is the fleet's event source: an HTTP server on loopback answering
// GET /v/<object> with {"value": n}, where n changes at every request for that object, so
// every reading differs from the one before and every reading brings a decision.
type metricSource struct {
	srv      *http.Server
	url      string
	requests atomic.Int64

	mu    sync.Mutex
	polls map[string]int
}

func startMetricSource() (*metricSource, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("metric source: %w", err)
	}
	s := &metricSource{url: "http://" + ln.Addr().String(), polls: map[string]int{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("metric source: %v", err)) // a listener that fails under us leaves no figure to trust
		}
	}()
	return s, nil
}

// urlOf is the URL a trigger of object reads.
func (s *metricSource) urlOf(object string) string { return s.url + "/v/" + object }

func (s *metricSource) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/v/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.requests.Add(1)
	s.mu.Lock()
	n := s.polls[name]
	s.polls[name] = n + 1
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"value": %d}`, sourceValue(fleetIndex(name), n))
}

// sourceValue is what object i reads at its n-th poll.
func sourceValue(i, n int) int {
	if i%activeEvery == 0 {
		return 10 + (n*7)%80
	}
	return n % fleetActivation
}

// fleetIndex is i of an object named <anything>-<i>; -1 when the name has no number.
func fleetIndex(name string) int {
	i, err := strconv.Atoi(name[strings.LastIndexByte(name, '-')+1:])
	if err != nil {
		return -1
	}
	return i
}

func (s *metricSource) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
