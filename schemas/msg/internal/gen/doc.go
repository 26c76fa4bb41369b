// Command gen writes the JSON Schema of each bus message, reflected from the Go types in
// ebb.dev/schemas/msg with their doc comments. Run it from schemas/msg (go generate does).
package main
