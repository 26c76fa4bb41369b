// Package proc runs one server process for a test: free loopback ports, the process's output in
// a log file, waits for a port or a log line (failing early if the process exits), and a stop by
// the PID it was started with. It knows nothing about any particular server.
package proc
