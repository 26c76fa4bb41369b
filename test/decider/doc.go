// Package decider tests the decider service end to end: a real control plane for the specs,
// replicas, Jobs and pods it reads, an embedded bus for the readings it consumes, the
// decisions it publishes and the state it keeps, and one or two decider replicas in process.
package decider
