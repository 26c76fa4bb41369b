package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"ebb.dev/schemas/keda/v1alpha1"
)

func TestSpecOrMetaChanged(t *testing.T) {
	now := metav1.Now()
	base := func() *v1alpha1.ScaledObject {
		return &v1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Name: "orders", Generation: 1, ResourceVersion: "10",
			Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"}, Finalizers: []string{"f"}}}
	}
	tests := map[string]struct {
		change func(*v1alpha1.ScaledObject)
		want   bool
	}{
		"a status-only write":   {change: func(so *v1alpha1.ScaledObject) { so.ResourceVersion = "11"; so.Status.HPAName = "x" }},
		"a spec change":         {change: func(so *v1alpha1.ScaledObject) { so.Generation = 2 }, want: true},
		"a label":               {change: func(so *v1alpha1.ScaledObject) { so.Labels["a"] = "z" }, want: true},
		"an annotation (pause)": {change: func(so *v1alpha1.ScaledObject) { so.Annotations[v1alpha1.PausedAnnotation] = "true" }, want: true},
		"a finalizer removed":   {change: func(so *v1alpha1.ScaledObject) { so.Finalizers = nil }, want: true},
		"deletion requested":    {change: func(so *v1alpha1.ScaledObject) { so.DeletionTimestamp = &now }, want: true},
		"an owner added":        {change: func(so *v1alpha1.ScaledObject) { so.OwnerReferences = []metav1.OwnerReference{{Name: "x"}} }, want: true},
	}
	p := SpecOrMetaChanged()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			old, cur := base(), base()
			tc.change(cur)
			if got := p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}); got != tc.want {
				t.Errorf("Update = %v, want %v", got, tc.want)
			}
		})
	}
	if !p.Create(event.CreateEvent{Object: base()}) || !p.Delete(event.DeleteEvent{Object: base()}) {
		t.Error("creates and deletes must always pass")
	}
}
