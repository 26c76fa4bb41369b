package validate

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"ebb.dev/schemas/keda/v1alpha1"
)

// Facts is what the ScaledObject rules need to know about the cluster, read by the webhook
// from the object's namespace just before validation.
type Facts struct {
	// ScaledObjects are the namespace's ScaledObjects; the one being validated is skipped by name.
	ScaledObjects []v1alpha1.ScaledObject
	// HPAs are the namespace's HorizontalPodAutoscalers.
	HPAs []autoscalingv2.HorizontalPodAutoscaler
	// PodSpec is the scale target's pod template, nil when the target does not exist yet or is a
	// kind without a known pod template (then the cpu/memory request check is skipped).
	PodSpec *corev1.PodSpec
	// LimitRanges are the namespace's LimitRanges; their container defaults count as requests.
	LimitRanges []corev1.LimitRange
	// Auth holds the parameter names each referenced authentication provides. A reference
	// missing from the map could not be read: its parameters are then not checked.
	Auth map[AuthRef][]string
}

// AuthRef identifies a TriggerAuthentication (namespaced) or ClusterTriggerAuthentication.
type AuthRef struct {
	Kind string
	Name string
}

// RefOf is the AuthRef an authenticationRef points at, with the default kind applied.
func RefOf(ref *v1alpha1.AuthenticationRef) AuthRef {
	return AuthRef{Kind: v1alpha1.AuthenticationKind(ref), Name: ref.Name}
}

// Parameters lists the parameter names an authentication spec provides.
func Parameters(spec *v1alpha1.TriggerAuthenticationSpec) []string {
	var names []string
	for _, r := range spec.SecretTargetRef {
		names = append(names, r.Parameter)
	}
	for _, r := range spec.ConfigMapTargetRef {
		names = append(names, r.Parameter)
	}
	for _, e := range spec.Env {
		names = append(names, e.Parameter)
	}
	if v := spec.HashiCorpVault; v != nil {
		for _, s := range v.Secrets {
			names = append(names, s.Parameter)
		}
	}
	for _, t := range spec.BoundServiceAccountToken {
		names = append(names, t.Parameter)
	}
	if v := spec.AzureKeyVault; v != nil {
		for _, s := range v.Secrets {
			names = append(names, s.Parameter)
		}
	}
	if v := spec.GCPSecretManager; v != nil {
		for _, s := range v.Secrets {
			names = append(names, s.Parameter)
		}
	}
	if v := spec.AwsSecretManager; v != nil {
		for _, s := range v.Secrets {
			names = append(names, s.Parameter)
		}
	}
	return names
}
