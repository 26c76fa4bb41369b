// Package postgres starts a real PostgreSQL server for tests: Debian's server binaries, on
// 127.0.0.1 and a free port, data in a temp dir, password (scram) auth over TCP, stopped by its
// PID. It does not install PostgreSQL: `make deps` does (APT_PACKAGES).
package postgres
