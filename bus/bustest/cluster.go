package bustest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"testing"
	"time"

	"ebb.dev/bus"
)

// freePorts finds n ports free on loopback. Every node's routes must be known before the
// first node starts (JetStream clustering refuses to start without them), so the ports are
// picked first and released just before the nodes bind them.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("bustest: find a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// StartCluster runs a three-node cluster on loopback, waits until its R3 streams exist and
// shuts every node down when the test ends. Options apply to every node.
func StartCluster(t testing.TB, opts ...Option) []*Bus {
	t.Helper()
	users, routePassword, logger := Users(), rand.Text(), Logger(t)
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	var nodes []*Bus
	for i := range 3 {
		cfg := bus.Config{
			Mode:     bus.Cluster,
			Name:     fmt.Sprintf("n%d", i),
			Host:     "127.0.0.1",
			Port:     -1,
			StoreDir: t.TempDir(),
			Users:    users,
			Logger:   logger.With("node", i),
			Cluster:  bus.ClusterConfig{Host: "127.0.0.1", Port: ports[i], Routes: routes, User: "route", Password: routePassword},
		}
		for _, o := range opts {
			o(&cfg)
		}
		nodes = append(nodes, start(t, cfg))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range nodes {
		n.peers = nodes
		if err := n.Ready(ctx); err != nil {
			t.Fatalf("bustest: cluster: %v", err)
		}
	}
	return nodes
}
