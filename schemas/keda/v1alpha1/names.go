package v1alpha1

// Annotations honoured by every ebb service; the names are KEDA's, except ebb's own
// autoscaling.ebb.dev/ ones.
const (
	// PausedReplicasAnnotation pauses scaling and holds the target at the given replica count.
	PausedReplicasAnnotation = "autoscaling.keda.sh/paused-replicas"
	// PausedAnnotation pauses scaling at the current replica count when "true".
	PausedAnnotation = "autoscaling.keda.sh/paused"
	// PausedScaleInAnnotation blocks scaling in while "true".
	PausedScaleInAnnotation = "autoscaling.keda.sh/paused-scale-in"
	// PausedScaleOutAnnotation blocks scaling out while "true".
	PausedScaleOutAnnotation = "autoscaling.keda.sh/paused-scale-out"
	// ForceActivationAnnotation treats the object as active whatever its triggers read.
	ForceActivationAnnotation = "autoscaling.keda.sh/force-activation"
	// TransferHPAOwnershipAnnotation lets a ScaledObject adopt an existing HPA named in
	// advanced.horizontalPodAutoscalerConfig.name.
	TransferHPAOwnershipAnnotation = "scaledobject.keda.sh/transfer-hpa-ownership"
	// HPAOwnershipValidationAnnotation set to "false" skips the check that no foreign HPA
	// already scales the target.
	HPAOwnershipValidationAnnotation = "validations.keda.sh/hpa-ownership"
	// FastScaleUpAnnotation set to "false" turns ebb's fast scale-up path off: the HPA alone
	// moves the count between max(minReplicaCount, 1) and maxReplicaCount, as with KEDA. ebb's
	// own annotation; on when absent.
	FastScaleUpAnnotation = "autoscaling.ebb.dev/fast-scale-up"
)

// Labels ebb puts on what it creates, so the owner can be found by selector.
const (
	// ScaledObjectNameLabel marks a ScaledObject, its HPA and its external metric selector.
	ScaledObjectNameLabel = "scaledobject.keda.sh/name"
	// ScaledJobNameLabel marks the Jobs a ScaledJob creates.
	ScaledJobNameLabel = "scaledjob.keda.sh/name"
)

// Kinds as they appear in apiVersion/kind and in authenticationRef.kind.
const (
	KindScaledObject                 = "ScaledObject"
	KindScaledJob                    = "ScaledJob"
	KindTriggerAuthentication        = "TriggerAuthentication"
	KindClusterTriggerAuthentication = "ClusterTriggerAuthentication"
)

// Defaults the CRDs apply; the code repeats them only where an object may not have passed
// through the API server (unit tests, decoded fixtures).
const (
	DefaultPollingInterval            int32 = 30
	DefaultCooldownPeriod             int32 = 300
	DefaultMinReplicaCount            int32 = 0
	DefaultMaxReplicaCount            int32 = 100
	DefaultJobsHistoryLimit           int32 = 100
	DefaultScaleTargetAPI                   = "apps/v1"
	DefaultScaleTargetKind                  = "Deployment"
	DefaultHPANamePrefix                    = "keda-hpa-"
	CompositeMetricName                     = "composite-metric"
	MaxNameLength                           = 63
	DefaultFallbackBehavior                 = FallbackBehaviorStatic
	DefaultScalingStrategy                  = "default"
	DefaultMultipleScalersCalculation       = "max"
)
