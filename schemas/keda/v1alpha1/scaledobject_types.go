package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScaledObject scales a workload with a scale subresource between 0 and N replicas from the
// readings of its triggers.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=scaledobjects,scope=Namespaced,shortName=so,categories=keda;ebb
// +kubebuilder:printcolumn:name="ScaleTargetKind",type="string",JSONPath=".status.scaleTargetKind"
// +kubebuilder:printcolumn:name="ScaleTargetName",type="string",JSONPath=".spec.scaleTargetRef.name"
// +kubebuilder:printcolumn:name="Min",type="integer",JSONPath=".spec.minReplicaCount"
// +kubebuilder:printcolumn:name="Max",type="integer",JSONPath=".spec.maxReplicaCount"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
// +kubebuilder:printcolumn:name="Fallback",type="string",JSONPath=".status.conditions[?(@.type==\"Fallback\")].status"
// +kubebuilder:printcolumn:name="Paused",type="string",JSONPath=".status.conditions[?(@.type==\"Paused\")].status"
// +kubebuilder:printcolumn:name="Triggers",type="string",JSONPath=".status.triggersTypes"
// +kubebuilder:printcolumn:name="Authentications",type="string",JSONPath=".status.authenticationsTypes"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ScaledObjectSpec `json:"spec"`
	// +optional
	Status ScaledObjectStatus `json:"status,omitempty"`
}

// ScaledObjectSpec is what the user asks for. Rules that need only this object are CEL rules
// here; rules that need the cluster live in the admission webhook.
//
// +kubebuilder:validation:XValidation:rule="self.minReplicaCount <= self.maxReplicaCount",message="minReplicaCount must be less than or equal to maxReplicaCount"
// +kubebuilder:validation:XValidation:rule="!has(self.idleReplicaCount) || self.idleReplicaCount < self.minReplicaCount",message="idleReplicaCount must be less than minReplicaCount"
// +kubebuilder:validation:XValidation:rule="self.triggers.all(t, !has(t.name) || self.triggers.exists_one(u, has(u.name) && u.name == t.name))",message="trigger names must be unique"
type ScaledObjectSpec struct {
	// +kubebuilder:validation:Required
	ScaleTargetRef *ScaleTarget `json:"scaleTargetRef"`
	// PollingInterval is how often, in seconds, each trigger is read.
	// +optional
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	PollingInterval *int32 `json:"pollingInterval,omitempty"`
	// InitialCooldownPeriod is how long, in seconds after creation, before the first scale to zero.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	InitialCooldownPeriod *int32 `json:"initialCooldownPeriod,omitempty"`
	// CooldownPeriod is how long, in seconds after the last active reading, before scaling to zero.
	// +optional
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	CooldownPeriod *int32 `json:"cooldownPeriod,omitempty"`
	// IdleReplicaCount is the replica count while inactive, instead of 0. Must be below minReplicaCount.
	// +optional
	// +kubebuilder:validation:Minimum=0
	IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
	// +optional
	Advanced *AdvancedConfig `json:"advanced,omitempty"`

	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Triggers []ScaleTriggers `json:"triggers"`
	// +optional
	Fallback *Fallback `json:"fallback,omitempty"`
}

// ScaleTarget names the workload a ScaledObject scales; it must have a scale subresource.
type ScaleTarget struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	// +kubebuilder:default="apps/v1"
	APIVersion string `json:"apiVersion,omitempty"`
	// +optional
	// +kubebuilder:default="Deployment"
	Kind string `json:"kind,omitempty"`
	// EnvSourceContainerName is the container whose environment <param>FromEnv reads.
	// +optional
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

// Fallback replicas served while a trigger keeps failing.
type Fallback struct {
	// +kubebuilder:validation:Minimum=0
	FailureThreshold int32 `json:"failureThreshold"`
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`
	// +optional
	// +kubebuilder:default=static
	// +kubebuilder:validation:Enum=static;currentReplicas;currentReplicasIfHigher;currentReplicasIfLower
	Behavior string `json:"behavior,omitempty"`
}

// Fallback behaviours.
const (
	FallbackBehaviorStatic                  = "static"
	FallbackBehaviorCurrentReplicas         = "currentReplicas"
	FallbackBehaviorCurrentReplicasIfHigher = "currentReplicasIfHigher"
	FallbackBehaviorCurrentReplicasIfLower  = "currentReplicasIfLower"
)

// AdvancedConfig holds the less common knobs.
type AdvancedConfig struct {
	// +optional
	HorizontalPodAutoscalerConfig *HorizontalPodAutoscalerConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	// RestoreToOriginalReplicaCount puts the target back to its replica count from before the
	// ScaledObject when the ScaledObject is deleted.
	// +optional
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
	// ScalingModifiers combines the triggers' readings with a formula into one composite metric.
	// A pointer (KEDA uses a struct) so that an absent block stays absent after defaulting.
	// +optional
	ScalingModifiers *ScalingModifiers `json:"scalingModifiers,omitempty"`
}

// ScalingModifiers describes the composite metric.
type ScalingModifiers struct {
	// Formula is an expr-lang expression over the trigger names.
	// +optional
	Formula string `json:"formula,omitempty"`
	// Target is the composite metric's target, a positive number.
	// +optional
	Target string `json:"target,omitempty"`
	// +optional
	ActivationTarget string `json:"activationTarget,omitempty"`
	// +optional
	// +kubebuilder:default=AverageValue
	// +kubebuilder:validation:Enum=AverageValue;Value
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// HorizontalPodAutoscalerConfig configures the HPA ebb creates for the ScaledObject.
type HorizontalPodAutoscalerConfig struct {
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	// Name of the HPA; keda-hpa-<ScaledObject name> when empty.
	// +optional
	Name string `json:"name,omitempty"`
}

// ScaledObjectStatus is what ebb observed and decided.
type ScaledObjectStatus struct {
	// +optional
	ScaleTargetKind string `json:"scaleTargetKind,omitempty"`
	// +optional
	ScaleTargetGVKR *GroupVersionKindResource `json:"scaleTargetGVKR,omitempty"`
	// +optional
	OriginalReplicaCount *int32 `json:"originalReplicaCount,omitempty"`
	// +optional
	LastActiveTime *metav1.Time `json:"lastActiveTime,omitempty"`
	// +optional
	ExternalMetricNames []string `json:"externalMetricNames,omitempty"`
	// +optional
	ResourceMetricNames []string `json:"resourceMetricNames,omitempty"`
	// +optional
	CompositeScalerName string `json:"compositeScalerName,omitempty"`
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// Health per metric name.
	// +optional
	Health map[string]HealthStatus `json:"health,omitempty"`
	// TriggersActivity per metric name.
	// +optional
	TriggersActivity map[string]TriggerActivityStatus `json:"triggersActivity,omitempty"`
	// +optional
	PausedReplicaCount *int32 `json:"pausedReplicaCount,omitempty"`
	// +optional
	HPAName string `json:"hpaName,omitempty"`
	// TriggersTypes lists the trigger types, comma separated, for the printer column.
	// +optional
	TriggersTypes *string `json:"triggersTypes,omitempty"`
	// AuthenticationsTypes lists the referenced authentications, comma separated.
	// +optional
	AuthenticationsTypes *string `json:"authenticationsTypes,omitempty"`
}

// GroupVersionKindResource identifies the scale target's API.
type GroupVersionKindResource struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Kind     string `json:"kind"`
	Resource string `json:"resource"`
}

// HealthStatus counts consecutive failures of one metric.
type HealthStatus struct {
	// +optional
	NumberOfFailures *int32 `json:"numberOfFailures,omitempty"`
	// +optional
	Status HealthStatusType `json:"status,omitempty"`
}

// HealthStatusType is Happy or Failing.
type HealthStatusType string

// Health states.
const (
	HealthStatusHappy   HealthStatusType = "Happy"
	HealthStatusFailing HealthStatusType = "Failing"
)

// TriggerActivityStatus records whether one trigger is active.
type TriggerActivityStatus struct {
	IsActive bool `json:"isActive"`
}

// +kubebuilder:object:root=true

// ScaledObjectList is a list of ScaledObjects.
type ScaledObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ScaledObject `json:"items"`
}
