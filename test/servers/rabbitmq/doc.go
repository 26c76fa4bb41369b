// Package rabbitmq starts a real RabbitMQ broker for tests: Debian's rabbitmq-server with the
// management plugin, on 127.0.0.1 and free ports, with its own epmd, data in a temp dir. It
// also offers the few management API calls tests need (vhosts, users, queues). It does not
// install the broker: `make deps` does (APT_PACKAGES).
package rabbitmq
