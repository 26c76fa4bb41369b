package goaws

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/router"
	log "github.com/sirupsen/logrus"

	"ebb.dev/test/servers"
)

// AccountID is the account in the queue URLs the server hands out.
const AccountID = "100010001000"

// running is held from Start to Stop: goaws's queues and settings are package variables.
var running sync.Mutex

// Options configure a server. The zero value is plain goaws.
type Options struct {
	// Inspect, when set, sees every request before goaws does (goaws ignores credentials, so
	// a test checks their signature here).
	Inspect func(*http.Request)
}

// Server is goaws serving on 127.0.0.1:Port.
type Server struct {
	Port int

	srv  *http.Server
	quit chan struct{}
	stop sync.Once
}

// StartT starts a server and stops it when the test ends.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	return servers.StartT(t, "goaws", func() (*Server, error) { return Start(opts) })
}

// Start serves a fresh goaws (no queues) on a free port. The caller must Stop it.
func Start(opts Options) (*Server, error) {
	running.Lock()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		running.Unlock()
		return nil, err
	}
	s := &Server{Port: l.Addr().(*net.TCPAddr).Port, quit: make(chan struct{})}
	port := strconv.Itoa(s.Port)
	// An empty region keeps queue URLs on 127.0.0.1 (goaws would prefix the host with it).
	app.CurrentEnvironment = app.Environment{Host: "127.0.0.1", Port: port, SqsPort: port, AccountID: AccountID,
		QueueAttributeDefaults: app.EnvQueueAttributes{VisibilityTimeout: 30, MaximumMessageSize: 262144}}
	app.SyncQueues.Lock()
	app.SyncQueues.Queues = map[string]*app.Queue{}
	app.SyncQueues.Unlock()
	log.SetOutput(io.Discard)                            // goaws logs every request through logrus's standard logger
	go gosqs.PeriodicTasks(100*time.Millisecond, s.quit) // returns in-flight messages after their visibility timeout
	handler := router.New()
	if opts.Inspect != nil {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			opts.Inspect(r)
			inner.ServeHTTP(w, r)
		})
	}
	s.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Endpoint is the server's base URL, for a client's endpoint override.
func (s *Server) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.Port) }

// Stop closes the listener and every connection; the next Start may then run. Calling it
// again does nothing.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		err = s.srv.Close()
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		close(s.quit)
		running.Unlock()
	})
	return err
}
