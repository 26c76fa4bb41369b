// Package actuator tests the actuator against a real control plane (kube-apiserver, and
// kube-controller-manager where Jobs, garbage collection or the HPA controller matter) and an
// embedded bus: decisions go in on the bus, and the tests watch the cluster and the actions
// the actuator publishes.
package actuator
