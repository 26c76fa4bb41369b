package scaler

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// awaitPollerConns waits until s holds conns client connections of the poller's wake-ups,
// with subs subscriptions to stream subjects between them (reply inboxes not counted).
func awaitPollerConns(t testing.TB, s *server.Server, conns int, subs uint32) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d wake-up connections with %d subscriptions", conns, subs), 5*time.Second, func() bool {
		cz, err := s.Connz(&server.ConnzOptions{Subscriptions: true})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var ns uint32
		for _, c := range cz.Conns {
			if c.Name == "ebb-poller" {
				n++
				for _, sub := range c.Subs {
					if !strings.HasPrefix(sub, "_INBOX.") {
						ns++
					}
				}
			}
		}
		return n == conns && ns == subs
	})
}

func TestNATSJetStreamWakeUps(t *testing.T) {
	// Fixed ports, so that the server can restart on them.
	port, httpPort := freePortOn(t, []string{"127.0.0.1"}), freePortOn(t, []string{"127.0.0.1"})
	s := runNATS(t, &server.Options{Port: port, HTTPPort: httpPort})
	f := newJSFixture(t, s.ClientURL(), 1)
	endpoint := s.MonitorAddr().String()
	// Each case starts once the previous one's connections are gone.
	run := func(name string, test func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			awaitPollerConns(t, s, 0, 0)
			test(t)
		})
	}

	run("a message to the stream wakes, on the client port the monitoring endpoint reports", func(t *testing.T) {
		w := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{}))
		awaitPollerConns(t, s, 1, 1) // the stream captures orders.>
		f.publish(t, 1)
		w.await(t, "a wake-up after a publish", time.Second)
		w.stop()
		awaitPollerConns(t, s, 0, 0)
	})

	run("a burst of 1,000 messages wakes a few times, not once a message", func(t *testing.T) {
		w := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{}))
		awaitPollerConns(t, s, 1, 1)
		start := time.Now()
		for i := range 1000 { // over about a second
			if err := f.nc.Publish("orders.burst", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
			if i%10 == 9 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if err := f.nc.Flush(); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		time.Sleep(3 * rearmAfter) // the last re-subscription and its wake-up
		// Two wake-ups per rearmAfter at most: one on a message, one on subscribing again.
		n, most := w.n.Load(), 2*(int64(elapsed/rearmAfter)+2)
		if n < 1 || n > most {
			t.Errorf("1,000 messages over %v woke %d times, want 1 to %d", elapsed, n, most)
		}
		t.Logf("1,000 messages over %v: %d wake-ups", elapsed, n)
	})

	run("one connection and subscription per stream and server, shared, closed after the last trigger", func(t *testing.T) {
		pool := NewPool()
		d := Deps{Pool: pool}
		w1 := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, d))
		w2 := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint, "consumer", "others", "lagThreshold", "3"), nil, d))
		awaitPollerConns(t, s, 1, 1)
		f.publish(t, 1)
		w1.await(t, "the first trigger woken", time.Second)
		w2.await(t, "the second trigger woken", time.Second)
		w1.stop()
		time.Sleep(2 * rearmAfter)
		w2.seen = w2.n.Load() // the wake-up after subscribing again
		f.publish(t, 1)
		w2.await(t, "the remaining trigger woken", time.Second)
		awaitPollerConns(t, s, 1, 0) // subscribed again only after rearmAfter
		w1.none(t, "the stopped trigger", 0)
		w2.stop()
		awaitPollerConns(t, s, 0, 0)
		if n := pool.Len(); n != 1 {
			t.Errorf("pool holds %d clients after every wake-up stopped, want 1 (the monitoring client)", n)
		}
	})

	run("a restarted server: subscribed again, with a wake-up to catch up", func(t *testing.T) {
		log, logs := capturedLogger(t)
		w := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{Log: log}))
		awaitPollerConns(t, s, 1, 1)
		s.Shutdown()
		s.WaitForShutdown()
		logs.await(t, "push wake-ups failed", 2*time.Second)
		s = runNATS(t, &server.Options{Port: port, HTTPPort: httpPort})
		w.await(t, "a catch-up wake-up once reconnected", 5*time.Second)
		logs.await(t, "push wake-ups re-established", time.Second)
		awaitPollerConns(t, s, 1, 1)
		f = newJSFixture(t, s.ClientURL(), 1)
		f.publish(t, 1)
		w.await(t, "a wake-up after a publish to the new server", time.Second)
	})
}

func TestNATSJetStreamWakeUpsWithAuthentication(t *testing.T) {
	const password = "s3cret-pw"
	conf := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(conf, []byte(`authorization: { user: app, password: "`+password+`" }`), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	s := runNATS(t, opts)
	f := newJSFixture(t, s.ClientURL(), 1, nats.UserInfo("app", password))
	endpoint := s.MonitorAddr().String()

	t.Run("without natsServerURL: off, with a log line saying what to set", func(t *testing.T) {
		log, logs := capturedLogger(t)
		w := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), nil, Deps{Log: log}))
		logs.await(t, "push wake-ups off", 2*time.Second)
		if !strings.Contains(logs.String(), "set natsServerURL") {
			t.Errorf("the log does not say what to set:\n%s", logs)
		}
		f.publish(t, 1)
		w.none(t, "a publish", 300*time.Millisecond)
	})

	t.Run("with natsServerURL holding the credentials", func(t *testing.T) {
		log, logs := capturedLogger(t)
		url := fmt.Sprintf("nats://app:%s@127.0.0.1:%d", password, s.Addr().(*net.TCPAddr).Port)
		w := wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), map[string]string{"natsServerURL": url}, Deps{Log: log}))
		awaitPollerConns(t, s, 1, 1)
		f.publish(t, 1)
		w.await(t, "a wake-up after a publish", time.Second)
		if strings.Contains(logs.String(), password) {
			t.Errorf("the password reached the log:\n%s", logs)
		}
	})

	t.Run("with wrong credentials: retried, the password kept out of the log", func(t *testing.T) {
		log, logs := capturedLogger(t)
		url := fmt.Sprintf("nats://app:wrong-%s@127.0.0.1:%d", password, s.Addr().(*net.TCPAddr).Port)
		wakeCounter(t, build(t, "nats-jetstream", natsMeta(endpoint), map[string]string{"natsServerURL": url}, Deps{Log: log}))
		logs.await(t, "push wake-ups still failing", 3*time.Second)
		if !strings.Contains(logs.String(), "Authorization Violation") {
			t.Errorf("the log does not say why:\n%s", logs)
		}
		if strings.Contains(logs.String(), password) {
			t.Errorf("the password reached the log:\n%s", logs)
		}
	})
}
