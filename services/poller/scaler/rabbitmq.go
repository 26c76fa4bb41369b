package scaler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ebb.dev/schemas/trigger"
)

// newRabbitMQ reads a queue over AMQP (the ready count, by passive declare) or over the
// management API (total or ready count, or publish rate; of one queue, or of the queues a
// regex matches combined by sum, max or avg), as KEDA's rabbitmq scaler does.
func newRabbitMQ(m trigger.RabbitMQ, d Deps) (Scaler, error) {
	u, err := url.Parse(m.Host)
	if err != nil {
		return nil, errors.New("host is not a valid URL") // the parse error would quote the password
	}
	tlsSet := tlsSettings{UnsafeSSL: m.UnsafeSSL}
	if m.TLS == "enable" {
		tlsSet.CA, tlsSet.Cert, tlsSet.Key, tlsSet.KeyPassword = m.CA, m.Cert, m.Key, m.KeyPassword
	}
	timeout := time.Duration(m.TimeoutMS) * time.Millisecond
	switch {
	case m.HTTP():
		return newRabbitMQHTTP(m, tlsSet, timeout, d)
	case m.Protocol == "amqp" || u.Scheme == "amqp" || u.Scheme == "amqps":
		return newRabbitMQAMQP(m, tlsSet, timeout, d)
	}
	return nil, fmt.Errorf("host: unknown URL scheme %q, want amqp, amqps, http or https", u.Scheme)
}

// withTimeout bounds ctx by the trigger's own timeout parameter, when it has one.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// rabbitAMQP reads a queue's ready count by passive declare on a pooled connection.
type rabbitAMQP struct {
	conn    *amqpConn
	release func() error
	queue   string
	timeout time.Duration
}

func newRabbitMQAMQP(m trigger.RabbitMQ, tlsSet tlsSettings, timeout time.Duration, d Deps) (Scaler, error) {
	target, err := newAMQPTarget(m, tlsSet)
	if err != nil {
		return nil, err
	}
	key := Key("rabbitmq-amqp", append([]string{m.Host, target.vhost, target.user, target.password}, tlsSet.parts()...)...)
	conn, release, err := Acquire(d.Pool, key, func() (*amqpConn, error) { return newAMQPConn(target), nil })
	if err != nil {
		return nil, err
	}
	return &rabbitAMQP{conn: conn, release: release, queue: m.QueueName, timeout: timeout}, nil
}

func (r *rabbitAMQP) Read(ctx context.Context) (float64, error) {
	ctx, cancel := withTimeout(ctx, r.timeout)
	defer cancel()
	n, err := r.conn.readyCount(ctx, r.queue)
	if err != nil {
		return 0, fmt.Errorf("rabbitmq: declare queue %q: %w", r.queue, err)
	}
	return float64(n), nil
}

func (r *rabbitAMQP) Close() error { return r.release() }

// rabbitHTTP reads a queue, or the queues a regex matches, from the management API.
type rabbitHTTP struct {
	client         *http.Client
	release        func() error
	url            string // holds no credentials
	user, password string
	queue          string
	regex          bool
	operation      string
	field          func(rabbitQueue) float64
	counts         bool // field is a message count, not a rate
	timeout        time.Duration
}

func newRabbitMQHTTP(m trigger.RabbitMQ, tlsSet tlsSettings, timeout time.Duration, d Deps) (Scaler, error) {
	api, err := managementURL(m.Host, m.VhostName, m.QueueName, m.UseRegex, m.PageSize)
	if err != nil {
		return nil, err
	}
	if m.Username != "" {
		api.user, api.password = m.Username, m.Password
	}
	client, release, err := acquireHTTP(d.Pool, tlsSet)
	if err != nil {
		return nil, err
	}
	r := &rabbitHTTP{client: client, release: release, url: api.url, user: api.user, password: api.password,
		queue: m.QueueName, regex: m.UseRegex, operation: m.Operation, counts: m.Mode != "MessageRate", timeout: timeout}
	switch {
	case m.Mode == "MessageRate":
		r.field = func(q rabbitQueue) float64 { return q.MessageStats.PublishDetails.Rate }
	case m.ExcludeUnacknowledged:
		r.field = func(q rabbitQueue) float64 { return q.MessagesReady }
	default:
		r.field = func(q rabbitQueue) float64 { return q.Messages }
	}
	return r, nil
}

// rabbitQueue is the part of a management API queue object the scaler reads.
type rabbitQueue struct {
	Messages      float64 `json:"messages"`
	MessagesReady float64 `json:"messages_ready"`
	MessageStats  struct {
		PublishDetails struct {
			Rate float64 `json:"rate"`
		} `json:"publish_details"`
	} `json:"message_stats"`
}

// rabbitQueuePage is one page of a queue listing.
type rabbitQueuePage struct {
	Items     []rabbitQueue `json:"items"`
	PageCount int           `json:"page_count"`
}

func (r *rabbitHTTP) Read(ctx context.Context) (float64, error) {
	ctx, cancel := withTimeout(ctx, r.timeout)
	defer cancel()
	if !r.regex {
		var q rabbitQueue
		if err := getJSON(ctx, r.client, r.url, r.user, r.password, &q); err != nil {
			return 0, fmt.Errorf("rabbitmq: get queue %q: %w", r.queue, err)
		}
		return r.field(q), nil
	}
	var page rabbitQueuePage
	if err := getJSON(ctx, r.client, r.url, r.user, r.password, &page); err != nil {
		return 0, fmt.Errorf("rabbitmq: list queues matching %q: %w", r.queue, err)
	}
	if page.PageCount > 1 {
		return 0, fmt.Errorf("rabbitmq: queues matching %q fill %d pages; raise pageSize to read them in one", r.queue, page.PageCount)
	}
	values := make([]float64, len(page.Items))
	for i, q := range page.Items {
		values[i] = r.field(q)
	}
	return combine(r.operation, values, r.counts), nil
}

func (r *rabbitHTTP) Close() error { return r.release() }

// combine applies a regex trigger's operation to the matched queues' values. KEDA averages
// message counts in integers, so avg truncates counts but not rates.
func combine(operation string, values []float64, counts bool) float64 {
	if len(values) == 0 {
		return 0
	}
	var sum, maxValue float64
	for _, v := range values {
		sum += v
		maxValue = max(maxValue, v)
	}
	switch operation {
	case "max":
		return maxValue
	case "avg":
		avg := sum / float64(len(values))
		if counts {
			avg = math.Trunc(avg)
		}
		return avg
	}
	return sum
}

// managementAPI is where and as whom a trigger reads the management API.
type managementAPI struct {
	url            string
	user, password string
}

// managementURL turns a trigger's http(s) host into the management API URL of its queue (or
// of the regex listing). The host's last path segment is the vhost (vhostName overrides it;
// empty means "/"); the segments before it are a path prefix, as behind a reverse proxy.
// Credentials move from the URL to the returned fields.
func managementURL(host, vhostName, queue string, regex bool, pageSize int64) (managementAPI, error) {
	u, err := url.Parse(host)
	if err != nil {
		return managementAPI{}, errors.New("host is not a valid URL")
	}
	var api managementAPI
	if u.User != nil {
		api.user = u.User.Username()
		api.password, _ = u.User.Password()
	}
	path := u.EscapedPath()
	prefix, vhost := "", strings.TrimPrefix(path, "/")
	if i := strings.LastIndex(path, "/"); i >= 0 {
		prefix, vhost = path[:i], path[i+1:]
	}
	if vhostName != "" {
		vhost = url.PathEscape(vhostName)
	}
	if vhost == "" {
		vhost = "%2F"
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host}
	api.url = base.String() + prefix + "/api/queues/" + vhost
	if !regex {
		api.url += "/" + url.PathEscape(queue)
		return api, nil
	}
	q := url.Values{"page": {"1"}, "page_size": {strconv.FormatInt(pageSize, 10)}, "name": {queue}, "use_regex": {"true"}}
	api.url += "?" + q.Encode()
	return api, nil
}
