package scaler

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waker is the poller's Waker, as scalers implement it.
type waker interface {
	Wake(ctx context.Context, fire func()) (stop func(), err error)
}

// The scalers that can wake (postgreSQL only as postgreSQLListen, with a notifyChannel).
var (
	_ waker = (*redisList)(nil)
	_ waker = (*redisStream)(nil)
	_ waker = (*postgreSQLListen)(nil)
	_ waker = (*natsJetStream)(nil)
)

// wakes counts the wake-ups of one trigger.
type wakes struct {
	n    atomic.Int64
	seen int64 // n when the last await or none returned
	stop func()
}

// wakeCounter starts s's wake-ups; they stop at w.stop or when the test ends.
func wakeCounter(t testing.TB, s Scaler) *wakes {
	t.Helper()
	wk, ok := s.(waker)
	if !ok {
		t.Fatalf("%T cannot wake", s)
	}
	w := &wakes{}
	stop, err := wk.Wake(t.Context(), func() { w.n.Add(1) })
	if err != nil {
		t.Fatalf("Wake: %v", err)
	}
	w.stop = stop
	t.Cleanup(stop)
	return w
}

// await waits for a wake-up since the last await or none.
func (w *wakes) await(t testing.TB, what string, within time.Duration) {
	t.Helper()
	waitUntil(t, what, within, func() bool { return w.n.Load() > w.seen })
	w.seen = w.n.Load()
}

// none checks that no wake-up comes within d (nor came since the last await or none).
func (w *wakes) none(t testing.TB, what string, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if n := w.n.Load(); n != w.seen {
		t.Errorf("%s: %d wake-ups, want none", what, n-w.seen)
		w.seen = n
	}
}

// waitUntil polls cond until it holds, failing t after within.
func waitUntil(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer keeps what a logger wrote, for tests to search; it goes to the test's output too.
type logBuffer struct {
	mu   sync.Mutex
	text strings.Builder
	out  io.Writer
}

// capturedLogger is a debug logger whose lines l keeps.
func capturedLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	l := &logBuffer{out: t.Output()}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	return l.out.Write(p)
}

// String is everything logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// await waits until the log holds s.
func (l *logBuffer) await(t testing.TB, s string, within time.Duration) {
	t.Helper()
	waitUntil(t, "a log line with "+s, within, func() bool { return strings.Contains(l.String(), s) })
}

func TestRetryDelay(t *testing.T) {
	tests := map[string]struct {
		attempt  int
		min, max time.Duration
	}{
		"first retry":           {attempt: 0, min: 250 * time.Millisecond, max: 500 * time.Millisecond},
		"fourth retry, doubled": {attempt: 3, min: 2 * time.Second, max: 4 * time.Second},
		"capped":                {attempt: 7, min: 15 * time.Second, max: 30 * time.Second},
		"far beyond the cap":    {attempt: 100, min: 15 * time.Second, max: 30 * time.Second},
		"second retry":          {attempt: 1, min: 500 * time.Millisecond, max: time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for range 1000 { // the random part stays within bounds
				if d := retryDelay(tc.attempt); d < tc.min || d > tc.max {
					t.Fatalf("retryDelay(%d) = %v, want %v to %v", tc.attempt, d, tc.min, tc.max)
				}
			}
		})
	}
}
