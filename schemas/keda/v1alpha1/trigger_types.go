package v1alpha1

import autoscalingv2 "k8s.io/api/autoscaling/v2"

// ScaleTriggers is one event source of a ScaledObject or ScaledJob.
type ScaleTriggers struct {
	// Type is the scaler kind, e.g. rabbitmq, kafka, cpu.
	// +kubebuilder:validation:MinLength=1
	Type string `json:"type"`
	// Name identifies the trigger in scalingModifiers formulas; unique within the object.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// UseCachedMetrics serves the HPA the last polled value instead of polling on its request.
	// +optional
	UseCachedMetrics bool `json:"useCachedMetrics,omitempty"`
	// Metadata is the scaler's configuration; the parameter names are KEDA's.
	Metadata map[string]string `json:"metadata"`
	// +optional
	AuthenticationRef *AuthenticationRef `json:"authenticationRef,omitempty"`
	// MetricType is the HPA target type: AverageValue or Value, or for cpu/memory
	// Utilization or AverageValue.
	// +optional
	// +kubebuilder:default=AverageValue
	// +kubebuilder:validation:Enum=AverageValue;Value;Utilization
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// AuthenticationRef points to a TriggerAuthentication or ClusterTriggerAuthentication.
type AuthenticationRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Kind is TriggerAuthentication (the default) or ClusterTriggerAuthentication.
	// +optional
	Kind string `json:"kind,omitempty"`
}
