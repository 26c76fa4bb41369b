// Package kube is the decider's read-only view of the Kubernetes API: informers on
// ScaledObjects and ScaledJobs for their specs, on Deployments and StatefulSets (stripped to
// their replica counts) for the current replicas of most scale targets, a GET of /scale for
// any other kind, and on the Jobs of ScaledJobs and their pods (both labelled scaledjob.keda.sh/name) for running and pending counts.
// It writes nothing.
package kube
