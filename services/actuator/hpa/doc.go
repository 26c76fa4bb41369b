// Package hpa computes the HorizontalPodAutoscaler ebb owns for a ScaledObject: its metrics,
// bounds and behavior. It is pure: reconcilers compare its output with the cluster and write.
package hpa
