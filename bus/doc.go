// Package bus runs and connects to the NATS server that carries every message between ebb's
// services: readings, decisions and actions, the audit stream and the last-value store.
// It knows subjects and streams, not what the messages mean; that contract lives in schemas.
package bus
