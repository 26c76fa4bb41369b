// Package target finds the workload a ScaledObject scales, of any kind with a /scale
// subresource, through the RESTMapper, and reads and writes its replica count with optimistic
// concurrency. It decides nothing: callers say which count to write.
package target
