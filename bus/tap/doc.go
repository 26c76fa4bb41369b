// Package tap prints what crosses the bus for a person or a program: readings, decisions and
// actions live, or decisions and actions replayed from the audit stream since a time, one
// line each. It only reads; flag parsing lives in cmd/ebb.
package tap
