// Package scaledobject reconciles ScaledObject specs with the cluster: its finalizer and name
// label, the scale target, the HPA it owns, pausing, the target's original replica count and
// its restoration on deletion, and the status fields that follow from the spec. It acts on
// spec changes only; decisions from the bus are applied by package apply.
package scaledobject
