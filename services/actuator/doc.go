// Package actuator applies decisions through the Kubernetes API: the scale subresource, the HPA
// it owns per ScaledObject, Jobs for ScaledJobs, status and Events. It is the only service that
// writes to the cluster.
package actuator
