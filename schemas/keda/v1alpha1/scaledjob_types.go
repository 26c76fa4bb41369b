package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScaledJob creates Jobs from a template as events arrive.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=scaledjobs,scope=Namespaced,shortName=sj,categories=keda;ebb
// +kubebuilder:printcolumn:name="Min",type="integer",JSONPath=".spec.minReplicaCount"
// +kubebuilder:printcolumn:name="Max",type="integer",JSONPath=".spec.maxReplicaCount"
// +kubebuilder:printcolumn:name="Triggers",type="string",JSONPath=".spec.triggers[*].type"
// +kubebuilder:printcolumn:name="Authentication",type="string",JSONPath=".spec.triggers[*].authenticationRef.name"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
// +kubebuilder:printcolumn:name="Paused",type="string",JSONPath=".status.conditions[?(@.type==\"Paused\")].status"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ScaledJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ScaledJobSpec `json:"spec,omitempty"`
	// +optional
	Status ScaledJobStatus `json:"status,omitempty"`
}

// ScaledJobSpec is what the user asks for.
//
// +kubebuilder:validation:XValidation:rule="self.triggers.all(t, !has(t.name) || self.triggers.exists_one(u, has(u.name) && u.name == t.name))",message="trigger names must be unique"
type ScaledJobSpec struct {
	// JobTargetRef is the template of every Job created.
	JobTargetRef *batchv1.JobSpec `json:"jobTargetRef"`
	// +optional
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	PollingInterval *int32 `json:"pollingInterval,omitempty"`
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	SuccessfulJobsHistoryLimit *int32 `json:"successfulJobsHistoryLimit,omitempty"`
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	FailedJobsHistoryLimit *int32 `json:"failedJobsHistoryLimit,omitempty"`
	// RolloutStrategy is the deprecated spelling of rollout.strategy.
	// +optional
	// +kubebuilder:validation:Enum=default;gradual
	RolloutStrategy string `json:"rolloutStrategy,omitempty"`
	// +optional
	// +kubebuilder:default={}
	Rollout Rollout `json:"rollout,omitempty"`
	// EnvSourceContainerName is the container whose environment <param>FromEnv reads.
	// +optional
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
	// MinReplicaCount Jobs are kept running even without events; when above max, max wins.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:default={}
	ScalingStrategy ScalingStrategy `json:"scalingStrategy,omitempty"`
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Triggers []ScaleTriggers `json:"triggers"`
}

// ScalingStrategy decides how many Jobs each poll creates.
type ScalingStrategy struct {
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:Enum=default;custom;accurate;eager
	Strategy string `json:"strategy,omitempty"`
	// +optional
	CustomScalingQueueLengthDeduction *int32 `json:"customScalingQueueLengthDeduction,omitempty"`
	// CustomScalingRunningJobPercentage is a decimal number, e.g. "0.5".
	// +optional
	CustomScalingRunningJobPercentage string `json:"customScalingRunningJobPercentage,omitempty"`
	// PendingPodConditions must all be True for a Job's pod to count as no longer pending.
	// +optional
	PendingPodConditions []string `json:"pendingPodConditions,omitempty"`
	// +optional
	// +kubebuilder:default=max
	// +kubebuilder:validation:Enum=max;min;avg;sum
	MultipleScalersCalculation string `json:"multipleScalersCalculation,omitempty"`
}

// Rollout says what happens to running Jobs when the ScaledJob changes.
type Rollout struct {
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:Enum=default;gradual
	Strategy string `json:"strategy,omitempty"`
	// +optional
	// +kubebuilder:default=background
	// +kubebuilder:validation:Enum=background;foreground
	PropagationPolicy string `json:"propagationPolicy,omitempty"`
}

// ScaledJobStatus is what ebb observed.
type ScaledJobStatus struct {
	// +optional
	LastActiveTime *metav1.Time `json:"lastActiveTime,omitempty"`
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// +optional
	Paused string `json:"isPaused,omitempty"`
	// +optional
	TriggersTypes *string `json:"triggersTypes,omitempty"`
	// +optional
	AuthenticationsTypes *string `json:"authenticationsTypes,omitempty"`
}

// +kubebuilder:object:root=true

// ScaledJobList is a list of ScaledJobs.
type ScaledJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScaledJob `json:"items"`
}
