// Package bus runs and connects to the NATS server that carries every message between ebb's
// services: readings, decisions and actions, the audit stream and the last-value buckets.
// It owns subjects' permissions, streams and connections; the messages themselves and their
// subjects are defined in ebb.dev/schemas/msg.
//
// # Server
//
// Start runs nats-server in-process with JetStream in one of three modes: Single (inside one
// process, for ebb dev and tests), Standalone (one bus process that services dial) and Cluster
// (one of three bus processes joined by routes, with every stream replicated three times).
// Authentication is always on: each user has a Role, and the role alone decides what it may
// publish and subscribe to. Outside Single mode the users come from Config.Users, usually
// loaded by LoadUsers from a mounted Secret.
//
// # What each role may do (P is the subject prefix, default "ebb")
//
//	poller      publish P.reading.>; read/write the pollers bucket; read the readings bucket
//	            and delete its keys
//	decider     subscribe P.reading.>; publish P.decision.>; read the readings bucket and the
//	            audit stream; read/write the decider bucket
//	actuator    subscribe P.decision.>; publish P.action.>; read the readings bucket and the
//	            audit stream
//	metrics-api subscribe P.reading.> and P.decision.>; read the readings bucket and the audit
//	            stream
//	tap         subscribe P.reading.>, P.decision.>, P.action.>; read the readings bucket and
//	            the audit stream; publish nothing
//	admin       everything (operators, tests; the bus itself provisions streams as admin)
//
// "Read" a stream means the JetStream API calls for consumers and direct gets on that stream
// only. Every user gets replies on its own inbox prefix, _INBOX_<user>, so no user can read
// another's replies.
//
// # Streams and buckets
//
//	P_audit     stream of P.decision.> and P.action.>, kept for AuditMaxAge (7 days) and at
//	            most AuditMaxBytes
//	P_readings  KV bucket holding the latest reading of every trigger, keyed by
//	            msg.ReadingKey; the bucket's stream captures P.reading.> itself, so pollers
//	            publish a reading once and it is both delivered live and kept
//	P_pollers   KV bucket of live pollers: each poller puts its own key at least every
//	            PollerTTL/3; a key expires PollerTTL after its last put, and the expiry is
//	            seen by watchers as a delete marker. Pollers split triggers among the live
//	            keys (shard assignment is theirs: rendezvous hashing needs no coordinator).
//	P_decider   KV bucket of the decider's own state (last active times, cooldowns)
//
// # Errors that must not be dropped
//
// Connect returns a Conn whose Publish waits for the stream's acknowledgement and whose
// Subscribe waits for the server to accept the subscription, so a denied publish or
// subscribe is returned as an error wrapping nats.ErrPermissionViolation. Anything the
// server reports asynchronously (a denied JetStream API call, a slow consumer) is logged and
// delivered on Conn.Err, which a service should select on next to its work.
package bus
