package scaler

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"ebb.dev/test/servers/rabbitmq"
)

// rabbitFixture is one broker (AMQP, AMQPS and the management API over HTTP and HTTPS, client
// certificates required on TLS) with vhost "orders" and user "ebb" (management tag) allowed
// on it.
type rabbitFixture struct {
	*rabbitmq.Server
	pki testPKI
}

const (
	rabbitUser     = "ebb"
	rabbitPassword = "s3cret-pw"
	rabbitVhost    = "orders"
)

func newRabbitFixture(t testing.TB) *rabbitFixture {
	t.Helper()
	pki := newTestPKI(t)
	s := rabbitmq.StartT(t, rabbitmq.Options{TLS: &rabbitmq.TLS{CA: pki.CA, Cert: pki.ServerCert, Key: pki.ServerKey, VerifyPeer: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, err := range []error{
		s.AddVhost(ctx, rabbitVhost),
		s.AddUser(ctx, rabbitUser, rabbitPassword, "management"),
		s.Permit(ctx, rabbitVhost, rabbitUser),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &rabbitFixture{Server: s, pki: pki}
}

// declare creates queues in the fixture's vhost.
func (f *rabbitFixture) declare(t testing.TB, queues ...string) {
	t.Helper()
	for _, q := range queues {
		if err := f.DeclareQueue(context.Background(), rabbitVhost, q); err != nil {
			t.Fatal(err)
		}
	}
}

// client opens an AMQP connection as the fixture's user, closed when the test ends.
func (f *rabbitFixture) client(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(f.AMQPURL(rabbitUser, rabbitPassword, rabbitVhost))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// publish sends n messages to queue and returns once the broker confirmed them all.
func (f *rabbitFixture) publish(t testing.TB, queue string, n int) {
	t.Helper()
	ch := f.client(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, n))
	for i := range n {
		if err := ch.PublishWithContext(context.Background(), "", queue, true, false, amqp.Publishing{Body: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if c := <-confirms; !c.Ack {
			t.Fatalf("publish to %s: broker nacked message %d", queue, c.DeliveryTag)
		}
	}
	_ = ch.Close()
}

// hold takes n messages from queue without acking them; ack acks them and stops consuming.
func (f *rabbitFixture) hold(t testing.TB, queue string, n int) (ack func()) {
	t.Helper()
	ch := f.client(t)
	if err := ch.Qos(n, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "holder", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var held []amqp.Delivery
	for range n {
		select {
		case d := <-deliveries:
			held = append(held, d)
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d messages from %s", len(held), n, queue)
		}
	}
	return func() {
		// Stop the consumer first, or the broker would deliver it the next messages.
		if err := ch.Cancel("holder", false); err != nil {
			t.Fatal(err)
		}
		for _, d := range held {
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// amqpMeta and httpMeta are triggers on queue as the fixture's user, with extra key/values.
func (f *rabbitFixture) amqpMeta(queue string, kv ...string) map[string]string {
	return withKV(map[string]string{"host": f.AMQPURL(rabbitUser, rabbitPassword, rabbitVhost), "queueName": queue}, kv)
}

func (f *rabbitFixture) httpMeta(queue string, kv ...string) map[string]string {
	host := strings.Replace(f.ManagementURL(), "http://", "http://"+rabbitUser+":"+rabbitPassword+"@", 1) + "/" + rabbitVhost
	return withKV(map[string]string{"host": host, "queueName": queue}, kv)
}

// withKV returns a copy of m with the key/value pairs of kv set (an empty value deletes).
func withKV(m map[string]string, kv []string) map[string]string {
	m = maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// eventually reads s until it returns want: the management API's counts trail the broker by
// about a second.
func eventually(t testing.TB, s Scaler, want float64, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got float64
	var err error
	for time.Now().Before(deadline) {
		if got, err = readOnce(t, s); err == nil && got == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("%s: Read = %v, %v; want %v within 20 s", what, got, err, want)
}

func TestRabbitMQ(t *testing.T) {
	f := newRabbitFixture(t)

	t.Run("queue length over both protocols, vhost and user from URL or parameters", func(t *testing.T) {
		f.declare(t, "jobs")
		auth := map[string]string{"username": rabbitUser, "password": rabbitPassword}
		amqpTriggers := map[string]Scaler{
			"amqp, all in the URL":        build(t, "rabbitmq", f.amqpMeta("jobs"), nil, Deps{}),
			"amqp, explicit protocol":     build(t, "rabbitmq", f.amqpMeta("jobs", "protocol", "amqp"), nil, Deps{}),
			"amqp, vhostName overrides":   build(t, "rabbitmq", f.amqpMeta("jobs", "host", f.AMQPURL(rabbitUser, rabbitPassword, ""), "vhostName", rabbitVhost), nil, Deps{}),
			"amqp, credentials from auth": build(t, "rabbitmq", f.amqpMeta("jobs", "host", f.AMQPURL("guest", "wrong", rabbitVhost)), auth, Deps{}),
		}
		httpTriggers := map[string]Scaler{
			"http, all in the URL":     build(t, "rabbitmq", f.httpMeta("jobs"), nil, Deps{}),
			"http, vhostName and auth": build(t, "rabbitmq", f.httpMeta("jobs", "host", f.ManagementURL()+"/", "vhostName", rabbitVhost), auth, Deps{}),
			"http, explicit protocol":  build(t, "rabbitmq", f.httpMeta("jobs", "protocol", "http"), nil, Deps{}),
		}
		readyOnly := build(t, "rabbitmq", f.httpMeta("jobs", "excludeUnacknowledged", "true"), nil, Deps{})
		check := func(what string, amqpWant, httpWant, readyWant float64) {
			t.Helper()
			for name, s := range amqpTriggers {
				if got, err := readOnce(t, s); err != nil || got != amqpWant {
					t.Errorf("%s: %s: Read = %v, %v; want %v", what, name, got, err, amqpWant)
				}
			}
			for name, s := range httpTriggers {
				eventually(t, s, httpWant, what+": "+name)
			}
			eventually(t, readyOnly, readyWant, what+": http, excludeUnacknowledged")
		}
		check("empty queue", 0, 0, 0)
		f.publish(t, "jobs", 5)
		check("5 published", 5, 5, 5)
		ack := f.hold(t, "jobs", 2)
		// Passive declare counts ready messages only; the management API's messages count
		// both, messages_ready only the ready ones.
		check("2 delivered, not acked", 3, 5, 3)
		ack()
		check("2 acked", 3, 3, 3)
	})

	t.Run("regex with sum, max and avg", func(t *testing.T) {
		f.declare(t, "r-a", "r-b", "r-c", "other")
		f.publish(t, "r-a", 3)
		f.publish(t, "r-b", 5)
		f.publish(t, "other", 7)
		for op, want := range map[string]float64{"sum": 8, "max": 5, "avg": 2} { // avg of 3, 5, 0 in whole messages
			s := build(t, "rabbitmq", f.httpMeta("^r-", "useRegex", "true", "operation", op), nil, Deps{})
			eventually(t, s, want, "operation "+op)
		}
		s := build(t, "rabbitmq", f.httpMeta("^nothing-", "useRegex", "true"), nil, Deps{})
		eventually(t, s, 0, "a regex matching no queue")
		s = build(t, "rabbitmq", f.httpMeta("^r-", "useRegex", "true", "pageSize", "2"), nil, Deps{})
		if got, err := readOnce(t, s); err == nil || !strings.Contains(err.Error(), "raise pageSize") {
			t.Errorf("3 queues on pages of 2: Read = %v, %v; want an error asking for a larger pageSize", got, err)
		}
	})

	t.Run("message rate follows publishing", func(t *testing.T) {
		f.declare(t, "rate")
		s := build(t, "rabbitmq", f.httpMeta("rate", "mode", "MessageRate", "value", "10"), nil, Deps{})
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		ch := f.client(t)
		wg.Go(func() {
			for ctx.Err() == nil {
				_ = ch.PublishWithContext(ctx, "", "rate", false, false, amqp.Publishing{Body: []byte("x")})
				time.Sleep(20 * time.Millisecond) // about 50 a second
			}
		})
		var rate float64
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && rate <= 10 {
			var err error
			if rate, err = readOnce(t, s); err != nil {
				t.Fatal(err)
			}
			time.Sleep(250 * time.Millisecond)
		}
		stop()
		wg.Wait()
		if rate <= 10 || rate > 100 {
			t.Errorf("publishing ~50/s: rate = %v, want between 10 and 100", rate)
		}
		eventually(t, s, 0, "rate after publishing stopped")
	})

	t.Run("tls over amqps and https with a client certificate", func(t *testing.T) {
		f.declare(t, "secure")
		f.publish(t, "secure", 4)
		tlsAuth := map[string]string{"tls": "enable", "ca": string(f.pki.CA), "cert": string(f.pki.ClientCert), "key": string(f.pki.ClientKey)}
		amqps := f.AMQPSURL(rabbitUser, rabbitPassword, rabbitVhost)
		https := strings.Replace(f.ManagementTLSURL(), "https://", "https://"+rabbitUser+":"+rabbitPassword+"@", 1) + "/" + rabbitVhost
		for name, meta := range map[string]map[string]string{"amqps": f.amqpMeta("secure", "host", amqps), "https": f.httpMeta("secure", "host", https)} {
			eventually(t, build(t, "rabbitmq", meta, tlsAuth, Deps{}), 4, name)
			unsafe := map[string]string{"tls": "enable", "cert": string(f.pki.ClientCert), "key": string(f.pki.ClientKey)}
			eventually(t, build(t, "rabbitmq", withKV(meta, []string{"unsafeSsl", "true"}), unsafe, Deps{}), 4, name+" with unsafeSsl and no ca")
			for what, auth := range map[string]map[string]string{
				"no client certificate":     {"tls": "enable", "ca": string(f.pki.CA)},
				"server CA not trusted":     {"tls": "enable", "cert": string(f.pki.ClientCert), "key": string(f.pki.ClientKey)},
				"tls parameters turned off": {"tls": "disable", "ca": string(f.pki.CA), "cert": string(f.pki.ClientCert), "key": string(f.pki.ClientKey)},
			} {
				meta := withKV(meta, []string{"unsafeSsl", ""})
				if got, err := readOnce(t, build(t, "rabbitmq", meta, auth, Deps{})); err == nil {
					t.Errorf("%s, %s: Read = %v, nil; want an error", name, what, got)
				}
			}
		}
	})

	t.Run("errors name the queue and never the password", func(t *testing.T) {
		f.declare(t, "exists")
		f.publish(t, "exists", 2)
		pool := NewPool()
		missing := build(t, "rabbitmq", f.amqpMeta("missing"), nil, Deps{Pool: pool})
		exists := build(t, "rabbitmq", f.amqpMeta("exists"), nil, Deps{Pool: pool})
		tests := map[string]struct {
			s    Scaler
			want string
		}{
			"amqp, no such queue":  {missing, `rabbitmq: declare queue "missing": Exception (404) Reason: "NOT_FOUND - no queue 'missing' in vhost 'orders'"`},
			"amqp, wrong password": {build(t, "rabbitmq", f.amqpMeta("exists", "host", f.AMQPURL(rabbitUser, "wrong-pw", rabbitVhost)), nil, Deps{}), `rabbitmq: declare queue "exists": connect: Exception (403)`},
			"amqp, no such vhost":  {build(t, "rabbitmq", f.amqpMeta("exists", "vhostName", "nowhere"), nil, Deps{}), `rabbitmq: declare queue "exists": connect: Exception (530)`},
			"http, no such queue":  {build(t, "rabbitmq", f.httpMeta("missing"), nil, Deps{}), `rabbitmq: get queue "missing": 404 Not Found`},
			"http, wrong password": {build(t, "rabbitmq", f.httpMeta("exists", "host", strings.Replace(f.ManagementURL(), "http://", "http://ebb:wrong-pw@", 1)+"/orders"), nil, Deps{}), `rabbitmq: get queue "exists": 401 Unauthorized`},
		}
		for name, tc := range tests {
			got, err := readOnce(t, tc.s)
			switch {
			case err == nil:
				t.Errorf("%s: Read = %v, nil; want an error", name, got)
			case !strings.HasPrefix(err.Error(), tc.want):
				t.Errorf("%s: error %q, want it to start %q", name, err, tc.want)
			case strings.Contains(err.Error(), "pw"):
				t.Errorf("%s: error quotes a password: %v", name, err)
			}
		}
		// The missing queue closed the shared channel; the next read on the connection opens another.
		if got, err := readOnce(t, exists); err != nil || got != 2 {
			t.Errorf("after a missing queue on the shared connection: Read = %v, %v; want 2", got, err)
		}
		// A connection the broker closes is reopened by the next read.
		if err := f.CloseConnections(context.Background()); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := readOnce(t, exists)
			if err == nil && got == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the broker closed the connection: Read = %v, %v; want 2", got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("triggers on one broker and user share one connection", func(t *testing.T) {
		queues := []string{"s-1", "s-2", "s-3"}
		f.declare(t, queues...)
		for i, q := range queues {
			f.publish(t, q, i+1)
		}
		pool := NewPool()
		var scalers []Scaler
		for _, q := range queues {
			scalers = append(scalers, build(t, "rabbitmq", f.amqpMeta(q), nil, Deps{Pool: pool}),
				build(t, "rabbitmq", f.httpMeta(q), nil, Deps{Pool: pool}))
		}
		if pool.Len() != 2 {
			t.Errorf("pool holds %d clients for one AMQP and one HTTP endpoint, want 2", pool.Len())
		}
		// Concurrent reads on the one channel each get their own queue's count.
		var wg sync.WaitGroup
		for i := range queues {
			s := scalers[2*i]
			wg.Go(func() {
				for range 20 {
					if got, err := readOnce(t, s); err != nil || got != float64(i+1) {
						t.Errorf("concurrent read of %s = %v, %v; want %d", queues[i], got, err, i+1)
						return
					}
				}
			})
		}
		wg.Wait()
		waitConnections(t, f, 1)
		for _, s := range scalers {
			if err := s.(io.Closer).Close(); err != nil {
				t.Fatal(err)
			}
		}
		if pool.Len() != 0 {
			t.Errorf("pool holds %d clients after every scaler closed", pool.Len())
		}
		waitConnections(t, f, 0)
	})

	t.Run("a source that never answers fails by the deadline", func(t *testing.T) {
		addr := blackhole(t)
		for name, host := range map[string]string{"amqp": "amqp://u:p@" + addr + "/", "http": "http://u:p@" + addr + "/"} {
			s := build(t, "rabbitmq", map[string]string{"host": host, "queueName": "q"}, nil, Deps{})
			for i := range 2 { // the second read dials again, after the first dropped the connection
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				start := time.Now()
				got, err := s.Read(ctx)
				cancel()
				if err == nil {
					t.Errorf("%s read %d: Read = %v, nil; want an error", name, i+1, got)
				}
				if took := time.Since(start); took > 2*time.Second {
					t.Errorf("%s read %d took %v, past its 300 ms deadline", name, i+1, took)
				}
			}
		}
		s := build(t, "rabbitmq", map[string]string{"host": "http://u:p@" + addr + "/", "queueName": "q", "timeout": "200"}, nil, Deps{})
		start := time.Now()
		if _, err := readOnce(t, s); err == nil || time.Since(start) > 2*time.Second {
			t.Errorf("timeout 200 ms under a 5 s deadline: err %v after %v", err, time.Since(start))
		}
	})
}

// waitConnections waits until the broker lists n connections named ebb-poller.
func waitConnections(t *testing.T, f *rabbitFixture, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var count int
	for time.Now().Before(deadline) {
		conns, err := f.Connections(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		count = 0
		for _, c := range conns {
			if c.ClientProperties.ConnectionName == "ebb-poller" {
				count++
			}
		}
		if count == n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("broker lists %d ebb-poller connections, want %d", count, n)
}

// blackhole accepts TCP connections on loopback and never answers, like a hung broker.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestRabbitMQStoppedBroker(t *testing.T) {
	f := newRabbitFixture(t)
	f.declare(t, "jobs")
	f.publish(t, "jobs", 3)
	scalers := map[string]Scaler{
		"amqp": build(t, "rabbitmq", f.amqpMeta("jobs"), nil, Deps{}),
		"http": build(t, "rabbitmq", f.httpMeta("jobs"), nil, Deps{}),
	}
	for name, s := range scalers {
		eventually(t, s, 3, name+" before the stop")
	}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, s := range scalers {
		for i := range 2 { // on the broken connection, then dialling again
			if got, err := readOnce(t, s); err == nil {
				t.Errorf("%s read %d after the stop: Read = %v, nil; want an error", name, i+1, got)
			}
		}
	}
}

func TestManagementURL(t *testing.T) {
	tests := map[string]struct {
		host, vhostName, queue string
		regex                  bool
		want                   managementAPI
	}{
		"vhost from the path": {host: "http://u:p@rmq:15672/orders", queue: "jobs",
			want: managementAPI{url: "http://rmq:15672/api/queues/orders/jobs", user: "u", password: "p"}},
		"root vhost from a trailing slash": {host: "http://rmq:15672/", queue: "jobs", want: managementAPI{url: "http://rmq:15672/api/queues/%2F/jobs"}},
		"root vhost without a path":        {host: "https://rmq", queue: "jobs", want: managementAPI{url: "https://rmq/api/queues/%2F/jobs"}},
		"escaped root vhost":               {host: "http://rmq:15672/%2F", queue: "jobs", want: managementAPI{url: "http://rmq:15672/api/queues/%2F/jobs"}},
		"path prefix before the vhost":     {host: "http://rmq/rabbit/mgmt/orders", queue: "jobs", want: managementAPI{url: "http://rmq/rabbit/mgmt/api/queues/orders/jobs"}},
		"vhostName overrides, escaped": {host: "http://rmq/rabbit/ignored", vhostName: "my vhost/1", queue: "a b",
			want: managementAPI{url: "http://rmq/rabbit/api/queues/my%20vhost%2F1/a%20b"}},
		"regex listing": {host: "http://u:p@rmq/orders", queue: "^jobs-.*$", regex: true,
			want: managementAPI{url: "http://rmq/api/queues/orders?name=%5Ejobs-.%2A%24&page=1&page_size=50&use_regex=true", user: "u", password: "p"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := managementURL(tc.host, tc.vhostName, tc.queue, tc.regex, 50)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("managementURL = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCombine(t *testing.T) {
	values := []float64{3, 5, 0}
	tests := map[string]struct {
		op     string
		counts bool
		values []float64
		want   float64
	}{
		"sum":              {"sum", true, values, 8},
		"max":              {"max", true, values, 5},
		"avg of counts":    {"avg", true, values, 2},
		"avg of rates":     {"avg", false, []float64{1.5, 2}, 1.75},
		"nothing matched":  {"avg", true, nil, 0},
		"max of one queue": {"max", false, []float64{0.25}, 0.25},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := combine(tc.op, tc.values, tc.counts); got != tc.want {
				t.Errorf("combine = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkRabbitMQRead(b *testing.B) {
	f := newRabbitFixture(b)
	f.declare(b, "bench")
	f.publish(b, "bench", 10)
	for name, meta := range map[string]map[string]string{"amqp": f.amqpMeta("bench"), "http": f.httpMeta("bench")} {
		b.Run(name, func(b *testing.B) {
			s := build(b, "rabbitmq", meta, nil, Deps{})
			eventually(b, s, 10, name)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if got, err := s.Read(ctx); err != nil || got != 10 {
					b.Fatalf("Read = %v, %v", got, err)
				}
			}
		})
	}
}
