// Package validate holds the admission rules for the keda.sh/v1alpha1 kinds as pure functions:
// an object and the cluster facts the webhook gathered go in, a field.ErrorList comes out. It
// does no I/O, so every rule is table-tested here and the webhook stays a thin adapter.
package validate
