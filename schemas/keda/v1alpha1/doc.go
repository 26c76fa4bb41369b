// Package v1alpha1 holds the keda.sh/v1alpha1 API types (ScaledObject, ScaledJob,
// TriggerAuthentication, ClusterTriggerAuthentication) field for field with KEDA, their CRD
// markers, and the naming rules every service shares. It holds data only: no clients, no I/O.
//
// +kubebuilder:object:generate=true
// +groupName=keda.sh
package v1alpha1
