// Package bustest runs real bus servers for tests: a single node or a three-node cluster on
// free loopback ports with JetStream in temporary directories, a user per role with a known
// password, and a Capture that proves some bytes never crossed the bus. Every helper fails
// the test on error and cleans up after it.
package bustest
