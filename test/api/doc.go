// Package api proves the keda.sh/v1alpha1 API against a real kube-apiserver: the generated CRDs
// with their defaults and CEL rules, and ebb's validating webhook served in-process and
// registered by URL. Its tests are its content; it exports nothing.
package api
