// Command scalerdoc writes the reference of every scaler's parameters into docs/scalers.md,
// between its generated-section markers, from the trigger struct tags and the comments of
// package trigger, so the document cannot drift from the parser. go generate runs it.
package main
