// Package mariadb starts a real MariaDB server for tests: Debian's mariadbd, on 127.0.0.1 and
// a free port, data in a temp dir, stopped by its PID. root has no password over the server's
// Unix socket, where SQL runs statements. It does not install MariaDB: `make deps` does
// (APT_PACKAGES).
package mariadb
