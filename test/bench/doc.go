// Package bench measures ebb as it runs: each service a separate process on the local control
// plane, the bus with authentication on. A Scenario returns a Section of the report; Write turns
// the sections into report.md and one SVG per chart. `make bench` runs it through
// test/cmd/ebb-bench; the figures are measurements, never assertions.
package bench
