// Package tools pins the versions of the developer tools the Makefile builds into ./bin
// (see the tool lines in go.mod); it has no code of its own.
package tools
