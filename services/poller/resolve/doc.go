// Package resolve finds the parameters of one trigger the way KEDA does: its metadata,
// <param>FromEnv from the scale target's container, and the TriggerAuthentication or
// ClusterTriggerAuthentication it references. The values it returns are credentials: it never
// logs them and its errors name fields, Secrets and keys, never values. It reads the cluster
// only through the small interfaces it declares.
package resolve
