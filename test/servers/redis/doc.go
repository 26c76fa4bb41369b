// Package redis starts a real Redis server for tests: Debian's redis-server on 127.0.0.1 and a
// free port, without persistence, its files in a temp dir, optionally with a password, ACL
// users and a TLS port. It does not install the server: `make deps` does (APT_PACKAGES).
package redis
