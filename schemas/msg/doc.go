// Package msg is the wire contract of ebb's bus: the Reading, Decision and Action messages,
// their JSON encoding with a versioned schema field, and the NATS subjects they travel on.
// It holds data and pure functions only: no connections, no clocks, and never a credential.
package msg

//go:generate go run ./internal/gen -out jsonschema
