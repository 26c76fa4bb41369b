package bustest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"ebb.dev/bus"
)

// StartCluster runs a three-node cluster on loopback, waits until its R3 streams exist and
// shuts every node down when the test ends. Options apply to every node.
func StartCluster(t testing.TB, opts ...Option) []*Bus {
	t.Helper()
	users, routePassword, logger := Users(), rand.Text(), Logger(t)
	var nodes []*Bus
	var seed string
	for i := range 3 {
		cfg := bus.Config{
			Mode:     bus.Cluster,
			Name:     fmt.Sprintf("n%d", i),
			Host:     "127.0.0.1",
			Port:     -1,
			StoreDir: t.TempDir(),
			Users:    users,
			Logger:   logger.With("node", i),
			Cluster:  bus.ClusterConfig{Host: "127.0.0.1", Port: -1, User: "route", Password: routePassword},
		}
		if seed != "" {
			cfg.Cluster.Routes = []string{seed}
		}
		for _, o := range opts {
			o(&cfg)
		}
		n := start(t, cfg)
		if seed == "" {
			seed = n.RouteURL()
		}
		nodes = append(nodes, n)
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
