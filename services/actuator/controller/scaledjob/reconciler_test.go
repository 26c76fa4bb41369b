package scaledjob

import (
	"testing"

	"ebb.dev/schemas/keda/v1alpha1"
)

// The reconciler itself runs against a real control plane in test/actuator; these are its
// pure choices.

func TestStrategy(t *testing.T) {
	tests := map[string]struct {
		spec v1alpha1.ScaledJobSpec
		want string
	}{
		"defaulted rollout":                       {spec: v1alpha1.ScaledJobSpec{Rollout: v1alpha1.Rollout{Strategy: "default"}}, want: "default"},
		"rollout.strategy gradual":                {spec: v1alpha1.ScaledJobSpec{Rollout: v1alpha1.Rollout{Strategy: "gradual"}}, want: "gradual"},
		"the deprecated field alone":              {spec: v1alpha1.ScaledJobSpec{RolloutStrategy: "gradual"}, want: "gradual"},
		"the deprecated field over the default":   {spec: v1alpha1.ScaledJobSpec{RolloutStrategy: "gradual", Rollout: v1alpha1.Rollout{Strategy: "default"}}, want: "gradual"},
		"rollout.strategy wins when both are set": {spec: v1alpha1.ScaledJobSpec{RolloutStrategy: "default", Rollout: v1alpha1.Rollout{Strategy: "gradual"}}, want: "gradual"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := strategy(&v1alpha1.ScaledJob{Spec: tc.spec}); got != tc.want {
				t.Errorf("strategy = %q, want %q", got, tc.want)
			}
		})
	}
	if limit(nil) != v1alpha1.DefaultJobsHistoryLimit || limit(new(int32(0))) != 0 {
		t.Errorf("limit(nil) = %d, limit(0) = %d: want the default 100 and 0", limit(nil), limit(new(int32(0))))
	}
}
