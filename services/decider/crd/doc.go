// Package crd turns keda.sh/v1alpha1 ScaledObjects and ScaledJobs into the specs package
// decide reasons about: CRD defaults, annotations and trigger metadata resolved, errors
// naming the field at fault. It reads no cluster state.
package crd
