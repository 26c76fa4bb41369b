// Package proc runs the programs tests depend on — servers, control-plane binaries, ebb's own
// services — as child processes: each in its own process group, its output in a log file,
// killed with the test binary if that dies first. It waits for a port or a log line (failing
// early if the process exits) and knows nothing about any particular program.
package proc
