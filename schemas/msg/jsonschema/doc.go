// Package jsonschema holds the generated JSON Schema of every bus message (one file per
// message, written by go generate in schemas/msg; never edit them) and validates encoded
// messages against them, so tests anywhere can check what really went over the bus.
package jsonschema
