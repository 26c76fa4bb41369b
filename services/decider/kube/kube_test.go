package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func pod(phase corev1.PodPhase, trueConditions ...corev1.PodConditionType) corev1.Pod {
	p := corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
	for _, c := range trueConditions {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "Other", Status: corev1.ConditionFalse})
	return p
}

func TestPending(t *testing.T) {
	tests := map[string]struct {
		pods       []corev1.Pod
		conditions []string
		want       bool
	}{
		"no pod yet":                          {want: true},
		"a pending pod":                       {pods: []corev1.Pod{pod(corev1.PodPending)}, want: true},
		"a running pod":                       {pods: []corev1.Pod{pod(corev1.PodRunning)}, want: false},
		"a succeeded pod":                     {pods: []corev1.Pod{pod(corev1.PodSucceeded)}, want: false},
		"a failed pod and a pending retry":    {pods: []corev1.Pod{pod(corev1.PodFailed), pod(corev1.PodPending)}, want: true},
		"a failed pod and a running retry":    {pods: []corev1.Pod{pod(corev1.PodFailed), pod(corev1.PodRunning)}, want: false},
		"conditions: running but not all met": {pods: []corev1.Pod{pod(corev1.PodRunning, "Ready")}, conditions: []string{"Ready", "PodScheduled"}, want: true},
		"conditions: all met on one pod":      {pods: []corev1.Pod{pod(corev1.PodPending, "Ready", "PodScheduled")}, conditions: []string{"Ready", "PodScheduled"}, want: false},
		"conditions: met across two pods only": {
			pods: []corev1.Pod{pod(corev1.PodRunning, "Ready"), pod(corev1.PodRunning, "PodScheduled")}, conditions: []string{"Ready", "PodScheduled"}, want: true},
		"conditions: one that is False": {pods: []corev1.Pod{pod(corev1.PodRunning, "Ready")}, conditions: []string{"Other"}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Pending(tc.pods, tc.conditions); got != tc.want {
				t.Errorf("Pending = %v, want %v", got, tc.want)
			}
		})
	}
}
