package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group and Version of the API ebb serves, the same as KEDA's so existing manifests apply unchanged.
const (
	Group   = "keda.sh"
	Version = "v1alpha1"
)

// GroupVersion returns keda.sh/v1alpha1.
func GroupVersion() schema.GroupVersion { return schema.GroupVersion{Group: Group, Version: Version} }

// AddToScheme registers the four kinds and their lists with s.
func AddToScheme(s *runtime.Scheme) error {
	gv := GroupVersion()
	s.AddKnownTypes(gv,
		&ScaledObject{}, &ScaledObjectList{},
		&ScaledJob{}, &ScaledJobList{},
		&TriggerAuthentication{}, &TriggerAuthenticationList{},
		&ClusterTriggerAuthentication{}, &ClusterTriggerAuthenticationList{},
	)
	metav1.AddToGroupVersion(s, gv)
	return nil
}
