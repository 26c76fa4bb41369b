// Package apply applies the decider's decisions to the cluster, on the leader only: it writes
// a ScaledObject target's scale subresource for the transitions outside the HPA's range, creates
// a ScaledJob's Jobs, and records activity, health and fallback in status, with Events and an
// Action for each write. Decisions are coalesced per object (the newest wins), stale ones are
// dropped, and failed writes are retried with backoff, so an outage delays actions but never
// replays old ones. The rules are pure functions in rule.go.
package apply
