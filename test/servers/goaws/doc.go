// Package goaws serves github.com/Admiral-Piett/goaws v0.4.5, an SQS emulator, in the test
// process on a 127.0.0.1 listener (goaws's own main binds 0.0.0.0). goaws speaks only the
// older SQS query protocol, and counts in-flight messages in ApproximateNumberOfMessages as
// well as in ApproximateNumberOfMessagesNotVisible, unlike SQS; it reports no
// ApproximateNumberOfMessagesDelayed. goaws keeps its queues in package variables, so one
// server runs per process at a time: Start waits for the previous one to stop.
package goaws
