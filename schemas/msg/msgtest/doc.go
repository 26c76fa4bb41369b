// Package msgtest builds valid example messages for tests, shaped like the ones the services
// publish. Each call returns a fresh value that the caller may change.
package msgtest
