// Package poller tests the poller service against a real kube-apiserver (test/cluster) and an
// embedded bus: credentials resolved from real Secrets, ConfigMaps, workloads and tokens;
// rotation, spec changes and deletions seen through the informers; sharding across replicas;
// and no credential ever crossing the bus.
package poller
