// Package simulate replays a ScaledObject or ScaledJob against a timeline of trigger readings:
// the poller's interval, ebb's decisions and the HPA's 15 s syncs, and reports what happens as
// JSONL, a table a person reads at a glance, or an SVG plot. The engine is deterministic; only
// Main reads and writes files.
package simulate
