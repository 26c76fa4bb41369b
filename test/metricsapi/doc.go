// Package metricsapi tests ebb's metrics API on the local control plane: registered through the
// aggregation layer, authenticated and authorized by delegation, and read by the real HPA.
package metricsapi
