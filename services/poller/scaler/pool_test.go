package scaler

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeClient counts its closes; the pool is pure bookkeeping, so no server is needed.
type fakeClient struct {
	name   string
	closes int
	err    error
}

func (c *fakeClient) Close() error {
	c.closes++
	return c.err
}

func TestPoolSharesPerKeyAndClosesAfterLastRelease(t *testing.T) {
	p := NewPool()
	opens := map[string]int{}
	open := func(name string) func() (*fakeClient, error) {
		return func() (*fakeClient, error) {
			opens[name]++
			return &fakeClient{name: name}, nil
		}
	}
	a1, releaseA1, err := Acquire(p, "a", open("a"))
	if err != nil {
		t.Fatal(err)
	}
	a2, releaseA2, _ := Acquire(p, "a", open("a"))
	b, releaseB, _ := Acquire(p, "b", open("b"))
	if a1 != a2 {
		t.Error("two acquires of one key got different clients")
	}
	if a1 == b {
		t.Error("two keys share a client")
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1}, opens); diff != "" {
		t.Errorf("opens (-want +got):\n%s", diff)
	}
	if p.Len() != 2 {
		t.Errorf("Len = %d, want 2", p.Len())
	}

	if err := releaseA1(); err != nil {
		t.Fatal(err)
	}
	_ = releaseA1() // a second release of the same handle must not count
	if a1.closes != 0 {
		t.Fatalf("client closed while still acquired once (closes = %d)", a1.closes)
	}
	if err := releaseA2(); err != nil {
		t.Fatal(err)
	}
	if a1.closes != 1 {
		t.Errorf("client closed %d times after the last release, want 1", a1.closes)
	}
	if p.Len() != 1 {
		t.Errorf("Len = %d after releasing a, want 1", p.Len())
	}

	// A key released to zero opens afresh next time.
	a3, releaseA3, _ := Acquire(p, "a", open("a"))
	if a3 == a1 || opens["a"] != 2 {
		t.Errorf("after the last release, Acquire reused the closed client (opens = %d)", opens["a"])
	}
	_ = releaseA3()
	_ = releaseB()
	if p.Len() != 0 || b.closes != 1 {
		t.Errorf("Len = %d, b closes = %d; want 0 and 1", p.Len(), b.closes)
	}
}

func TestPoolErrors(t *testing.T) {
	p := NewPool()
	if _, _, err := Acquire(p, "k", func() (*fakeClient, error) { return nil, errors.New("boom") }); err == nil || err.Error() != "boom" {
		t.Errorf("open error = %v, want boom", err)
	}
	if p.Len() != 0 {
		t.Errorf("a failed open left an entry")
	}
	closeErr := errors.New("close failed")
	_, release, _ := Acquire(p, "k", func() (*fakeClient, error) { return &fakeClient{err: closeErr}, nil })
	if _, _, err := Acquire(p, "k", func() (httpClient, error) { return httpClient{}, nil }); err == nil || !strings.Contains(err.Error(), "holds a *scaler.fakeClient") {
		t.Errorf("acquire with another type: err = %v", err)
	}
	if err := release(); !errors.Is(err, closeErr) {
		t.Errorf("last release returned %v, want the close error", err)
	}
}

func TestPoolConcurrent(t *testing.T) {
	p := NewPool()
	var mu sync.Mutex
	var clients []*fakeClient
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c, release, err := Acquire(p, "k", func() (*fakeClient, error) {
				c := &fakeClient{}
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
				return c, nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			_ = c
			_ = release()
		})
	}
	wg.Wait()
	for _, c := range clients {
		if c.closes != 1 {
			t.Errorf("a client was closed %d times, want 1", c.closes)
		}
	}
	if p.Len() != 0 {
		t.Errorf("Len = %d after all releases", p.Len())
	}
}

func TestKey(t *testing.T) {
	k := Key("rabbitmq-amqp", "amqp://user:s3cret@rmq:5672/", "/")
	if strings.Contains(k, "s3cret") || strings.Contains(k, "user") {
		t.Errorf("key %q holds a credential", k)
	}
	if !strings.HasPrefix(k, "rabbitmq-amqp/") {
		t.Errorf("key %q does not start with its kind", k)
	}
	if k != Key("rabbitmq-amqp", "amqp://user:s3cret@rmq:5672/", "/") {
		t.Error("Key is not deterministic")
	}
	for name, other := range map[string]string{
		"other password":    Key("rabbitmq-amqp", "amqp://user:other@rmq:5672/", "/"),
		"parts regrouped":   Key("rabbitmq-amqp", "amqp://user:s3cret@rmq:5672//", ""),
		"other kind":        Key("http", "amqp://user:s3cret@rmq:5672/", "/"),
		"one part not two":  Key("rabbitmq-amqp", "amqp://user:s3cret@rmq:5672/"),
		"empty part joined": Key("rabbitmq-amqp", "amqp://user:s3cret@rmq:5672/", "/", ""),
	} {
		if other == k {
			t.Errorf("%s: same key", name)
		}
	}
}
