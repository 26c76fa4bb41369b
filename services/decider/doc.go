// Package decider consumes readings and publishes decisions: activation, replica targets,
// cooldown, fallback, scaling modifiers and ScaledJob strategies. It writes nothing to Kubernetes.
package decider
