// Package servers holds, one package per source, helpers that start real servers for tests:
// on 127.0.0.1, on free ports, in temp dirs, stopped by the PID they started.
package servers
