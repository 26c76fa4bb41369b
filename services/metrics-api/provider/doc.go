// Package provider answers the HPA's external-metric requests from memory. A Store holds the
// latest value of every ScaledObject metric as the decider used it (raw, fallback or composite);
// Provider serves it through custom-metrics-apiserver. Nothing here calls an event source.
package provider
