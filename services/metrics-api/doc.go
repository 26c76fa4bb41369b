// Package metricsapi serves the latest trigger values to the HPA as external.metrics.k8s.io,
// from memory fed by the bus; it never calls an event source on the HPA's request path.
package metricsapi
