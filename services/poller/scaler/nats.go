package scaler

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"

	"ebb.dev/schemas/trigger"
)

// natsJetStream reads a JetStream consumer's lag (pending plus ack-pending) from a NATS
// server's monitoring endpoint. On a clustered server it reads the consumer leader's view,
// found as KEDA finds it: the cluster's client URLs name the hosts, each serving monitoring on
// the same port as the configured endpoint. It wakes on messages to the stream's subjects.
type natsJetStream struct {
	client  *http.Client
	release func() error
	m       trigger.NATSJetStream
	scheme  string
	query   string
	pool    *Pool
	log     *slog.Logger

	mu sync.Mutex
	// leaderHost and leaderName are the monitoring host and server name of the consumer
	// leader, once found; reads go there until the leader moves.
	leaderHost, leaderName string
}

func newNATSJetStream(m trigger.NATSJetStream, d Deps) (Scaler, error) {
	client, release, err := acquireHTTP(d.Pool, tlsSettings{})
	if err != nil {
		return nil, err
	}
	n := &natsJetStream{client: client, release: release, m: m, scheme: "http", pool: d.Pool, log: d.Log}
	if m.UseHTTPS {
		n.scheme = "https"
	}
	n.query = url.Values{"acc": {m.Account}, "consumers": {"true"}, "config": {"true"}}.Encode()
	return n, nil
}

// jsz is the part of a /jsz response the scaler reads.
type jsz struct {
	Meta *struct {
		ClusterSize int `json:"cluster_size"`
	} `json:"meta_cluster"`
	Accounts []struct {
		ID      string      `json:"id"`
		Name    string      `json:"name"`
		Streams []jszStream `json:"stream_detail"`
	} `json:"account_details"`
}

type jszStream struct {
	Name  string `json:"name"`
	State struct {
		LastSeq uint64 `json:"last_seq"`
	} `json:"state"`
	Consumers []jszConsumer `json:"consumer_detail"`
}

type jszConsumer struct {
	Name          string `json:"name"`
	NumPending    uint64 `json:"num_pending"`
	NumAckPending int64  `json:"num_ack_pending"`
	Cluster       *struct {
		Leader string `json:"leader"`
	} `json:"cluster"`
}

func (c jszConsumer) leader() string {
	if c.Cluster == nil {
		return ""
	}
	return c.Cluster.Leader
}

// varz is the part of a /varz response the scaler reads.
type varz struct {
	ServerName   string   `json:"server_name"`
	Port         int      `json:"port"` // for clients
	AuthRequired bool     `json:"auth_required"`
	TLSRequired  bool     `json:"tls_required"`
	ConnectURLs  []string `json:"connect_urls"`
	Cluster      struct {
		URLs []string `json:"urls"`
	} `json:"cluster"`
}

func (n *natsJetStream) Read(ctx context.Context) (float64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	lag, err := n.read(ctx)
	if err != nil {
		return 0, fmt.Errorf("nats-jetstream: consumer %q of stream %q: %w", n.m.Consumer, n.m.Stream, err)
	}
	return lag, nil
}

func (n *natsJetStream) read(ctx context.Context) (float64, error) {
	if n.leaderHost != "" {
		if stream, consumer, err := n.consumer(ctx, n.leaderHost); err == nil && consumer != nil && consumer.leader() == n.leaderName {
			return lag(stream, consumer), nil
		}
		n.leaderHost, n.leaderName = "", "" // the leader moved or its node is gone: look again
	}
	info, err := n.jsz(ctx, n.m.MonitoringEndpoint)
	if err != nil {
		return 0, err
	}
	stream, consumer, err := n.find(info)
	if err != nil {
		return 0, err
	}
	if consumer == nil || info.Meta == nil || info.Meta.ClusterSize <= 1 || consumer.leader() == "" {
		return lag(stream, consumer), nil
	}
	// Only the leader's counts are current: followers may lag behind it.
	host, err := n.findLeader(ctx, consumer.leader())
	if err != nil {
		return 0, err
	}
	stream, consumer, err = n.consumer(ctx, host)
	if err != nil {
		return 0, err
	}
	if consumer != nil && consumer.leader() != "" {
		n.leaderHost, n.leaderName = host, consumer.leader()
	}
	return lag(stream, consumer), nil
}

// lag is the consumer's pending plus ack-pending count; without the consumer, KEDA reads
// the stream's last sequence (everything would be pending for a new consumer).
func lag(s *jszStream, c *jszConsumer) float64 {
	if c == nil {
		return float64(s.State.LastSeq)
	}
	return float64(c.NumPending) + float64(c.NumAckPending)
}

func (n *natsJetStream) jsz(ctx context.Context, host string) (*jsz, error) {
	u := url.URL{Scheme: n.scheme, Host: host, Path: "/jsz", RawQuery: n.query}
	var info jsz
	if err := getJSON(ctx, n.client, u.String(), "", "", &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// consumer reads /jsz on host and finds the trigger's stream and consumer.
func (n *natsJetStream) consumer(ctx context.Context, host string) (*jszStream, *jszConsumer, error) {
	info, err := n.jsz(ctx, host)
	if err != nil {
		return nil, nil, err
	}
	return n.find(info)
}

// find returns the trigger's stream in info, and its consumer (nil when it has none).
func (n *natsJetStream) find(info *jsz) (*jszStream, *jszConsumer, error) {
	for _, acc := range info.Accounts {
		if acc.ID != n.m.Account && acc.Name != n.m.Account {
			continue
		}
		for i := range acc.Streams {
			s := &acc.Streams[i]
			if s.Name != n.m.Stream {
				continue
			}
			for j := range s.Consumers {
				if s.Consumers[j].Name == n.m.Consumer {
					return s, &s.Consumers[j], nil
				}
			}
			return s, nil, nil
		}
	}
	return nil, nil, fmt.Errorf("stream not found in account %q", n.m.Account)
}

// findLeader returns the monitoring host of the server named leader: each host in the
// cluster's client URLs, on the configured endpoint's monitoring port, is asked its name.
func (n *natsJetStream) findLeader(ctx context.Context, leader string) (string, error) {
	var v varz
	if err := n.getVarz(ctx, n.m.MonitoringEndpoint, &v); err != nil {
		return "", err
	}
	urls := v.ConnectURLs
	if len(urls) == 0 {
		urls = v.Cluster.URLs
	}
	_, port, err := net.SplitHostPort(n.m.MonitoringEndpoint)
	if err != nil {
		port = "" // the endpoint's scheme default
	}
	for _, u := range urls {
		host := u
		if h, _, err := net.SplitHostPort(u); err == nil {
			host = h
		}
		if port != "" {
			host = net.JoinHostPort(host, port)
		}
		var node varz
		if err := n.getVarz(ctx, host, &node); err != nil {
			continue // a node that is down cannot be the leader we can read
		}
		if node.ServerName == leader {
			return host, nil
		}
	}
	return "", fmt.Errorf("no monitoring endpoint found for consumer leader %q", leader)
}

func (n *natsJetStream) getVarz(ctx context.Context, host string, v *varz) error {
	u := url.URL{Scheme: n.scheme, Host: host, Path: "/varz"}
	return getJSON(ctx, n.client, u.String(), "", "", v)
}

func (n *natsJetStream) Close() error { return n.release() }
