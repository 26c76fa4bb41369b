// Package poller turns the triggers of ScaledObjects and ScaledJobs into readings on the bus:
// it polls each event source of its shard at the trigger's interval, and at once when a source
// announces work (a Waker), and publishes what it read, or why it could not. It never decides
// replica counts.
package poller
