// Package scaler reads the current metric value of one trigger from its event source: one file
// per source, registered explicitly in Builtin. It owns connections to sources, and the
// subscriptions through which some sources announce work (both shared through a Pool), and
// nothing else: metadata parsing, activation, targets and metric names belong to
// ebb.dev/schemas/trigger, scheduling and publishing to the poller.
package scaler
