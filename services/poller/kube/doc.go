// Package kube is the poller's view of the Kubernetes API: informers on ScaledObjects,
// ScaledJobs and (Cluster)TriggerAuthentications, metadata-only informers on Secrets and
// ConfigMaps that keep their data out of memory until a trigger needs it, scale targets' pod
// templates and bound service account tokens. It implements resolve's interfaces and writes
// nothing to the cluster except TokenRequests.
package kube
