package servers

import "testing"

// Stopper is a server a test started.
type Stopper interface {
	Stop() error
}

// StartT runs start, failing t if the server does not come up, and stops the server when the
// test ends, failing t if it does not stop cleanly. name labels the failures.
func StartT[S Stopper](t testing.TB, name string, start func() (S, error)) S {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	return s
}
