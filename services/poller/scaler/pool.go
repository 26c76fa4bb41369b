package scaler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Pool shares clients among scalers: one client per key (a source address plus the
// credentials and TLS material used on it), counted by reference and closed when the last
// scaler using it lets go. N triggers on one broker with one set of credentials share one
// connection.
type Pool struct {
	mu      sync.Mutex
	entries map[string]*poolEntry
}

type poolEntry struct {
	refs   int
	client io.Closer
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{entries: map[string]*poolEntry{}}
}

// Acquire returns the client stored under key, or stores the one open returns. release hands
// it back (further calls do nothing); the last release closes the client and returns Close's
// error. open runs under the pool's lock, so it must be quick and do no I/O: pooled clients
// connect on first use. Build keys with Key so they hold no secrets.
func Acquire[T io.Closer](p *Pool, key string, open func() (T, error)) (client T, release func() error, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[key]
	if !ok {
		c, err := open()
		if err != nil {
			return client, nil, err
		}
		e = &poolEntry{client: c}
		p.entries[key] = e
	}
	client, ok = e.client.(T)
	if !ok {
		return client, nil, fmt.Errorf("pool key %s holds a %T, not a %T", key, e.client, client)
	}
	e.refs++
	var once sync.Once
	release = func() error {
		var err error
		once.Do(func() { err = p.release(key, e) })
		return err
	}
	return client, release, nil
}

func (p *Pool) release(key string, e *poolEntry) error {
	p.mu.Lock()
	e.refs--
	last := e.refs == 0
	if last {
		delete(p.entries, key)
	}
	p.mu.Unlock()
	if !last {
		return nil
	}
	return e.client.Close()
}

// Len is the number of clients open in the pool.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Key is a pool key for a client of kind identified by parts (addresses, user names,
// passwords, certificates). The parts are hashed, so the key can be logged.
func Key(kind string, parts ...string) string {
	h := sha256.New()
	for _, part := range parts {
		// A length prefix keeps ("ab", "c") and ("a", "bc") apart.
		h.Write([]byte(strconv.Itoa(len(part)) + ":" + part))
	}
	return kind + "/" + hex.EncodeToString(h.Sum(nil)[:16])
}
