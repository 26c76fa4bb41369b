package scaledobject

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/services/actuator/target"
)

// The reconciler itself runs against a real control plane in test/actuator; this is its pure
// choice of what to restore on deletion.

func TestRestoreTarget(t *testing.T) {
	gvkr := v1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "StatefulSet", Resource: "statefulsets"}
	so := func(restore bool, original *int32, recorded *v1alpha1.GroupVersionKindResource) *v1alpha1.ScaledObject {
		return &v1alpha1.ScaledObject{
			Spec: v1alpha1.ScaledObjectSpec{
				ScaleTargetRef: &v1alpha1.ScaleTarget{Name: "db"},
				Advanced:       &v1alpha1.AdvancedConfig{RestoreToOriginalReplicaCount: restore},
			},
			Status: v1alpha1.ScaledObjectStatus{OriginalReplicaCount: original, ScaleTargetGVKR: recorded},
		}
	}
	tests := map[string]struct {
		so     *v1alpha1.ScaledObject
		want   target.Ref
		wantN  int32
		wantOK bool
	}{
		"restore with a recorded count and target": {so: so(true, new(int32(3)), &gvkr), want: target.Ref{Name: "db", GVKR: gvkr}, wantN: 3, wantOK: true},
		"restore not asked for":                    {so: so(false, new(int32(3)), &gvkr)},
		"nothing recorded yet":                     {so: so(true, nil, &gvkr)},
		"target never resolved":                    {so: so(true, new(int32(3)), nil)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, n, ok := restoreTarget(tc.so)
			if diff := cmp.Diff(tc.want, got); diff != "" || n != tc.wantN || ok != tc.wantOK {
				t.Errorf("restoreTarget = %d, %v, ref diff (-want +got):\n%s", n, ok, diff)
			}
		})
	}
}
