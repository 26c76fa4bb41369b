// Package shard splits triggers among the live poller replicas of one source group without a
// coordinator: each replica keeps a key alive in the bus's pollers bucket, watches the others'
// keys, and owns a trigger when rendezvous hashing over the live members picks it. It polls
// nothing and knows nothing of Kubernetes.
package shard
