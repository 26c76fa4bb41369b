// Package hpa models the Horizontal Pod Autoscaler of kube-controller-manager v1.37 for the
// External metrics ebb serves: per-metric proposals, tolerance, stabilization and rate limits.
// It is a deterministic value driven by its caller's clock (HPA.Sync); it talks to no API server.
package hpa
