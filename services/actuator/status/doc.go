// Package status computes what ebb reports in ScaledObject and ScaledJob status: conditions
// with their reasons, metric names, pause state, health and activity from decisions. It is pure:
// callers compare its result with the cluster and write only when something changed.
package status
