// Package actuator applies decisions through the Kubernetes API: the scale subresource, the HPA
// it owns per ScaledObject, Jobs for ScaledJobs, status and Events. It is the only service that
// writes to the cluster. Run wires its parts: the spec reconcilers (controller/scaledobject,
// controller/scaledjob) and the decision applier (apply) run on the elected leader only; the
// admission webhook (webhook) and the action publisher (action) run on every replica.
package actuator
