// Package decide turns one ScaledObject's or ScaledJob's trigger readings into a decision:
// activation, the replica count, the values the HPA must be served, health and fallback.
// It does no I/O, reads no clock and starts no goroutine: callers pass the time in the input.
package decide
