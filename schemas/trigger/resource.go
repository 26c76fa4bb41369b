package trigger

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// CPU scales on the pods' CPU through an HPA resource metric; ebb never polls it.
type CPU struct {
	Value         resource.Quantity `trigger:"value,target"`
	ContainerName string            `trigger:"containerName,optional"`
}

// Memory scales on the pods' memory through an HPA resource metric; ebb never polls it.
type Memory struct {
	Value         resource.Quantity `trigger:"value,target"`
	ContainerName string            `trigger:"containerName,optional"`
}

// MetricDetail is empty: resource metrics are named after the resource.
func (m CPU) MetricDetail() string { return "" }

// ResourceName is cpu.
func (m CPU) ResourceName() corev1.ResourceName { return corev1.ResourceCPU }

// TargetContainer is containerName.
func (m CPU) TargetContainer() string { return m.ContainerName }

func (m CPU) validate(c *check) field.ErrorList { return resourceValue(c, m.Value) }

// MetricDetail is empty: resource metrics are named after the resource.
func (m Memory) MetricDetail() string { return "" }

// ResourceName is memory.
func (m Memory) ResourceName() corev1.ResourceName { return corev1.ResourceMemory }

// TargetContainer is containerName.
func (m Memory) TargetContainer() string { return m.ContainerName }

func (m Memory) validate(c *check) field.ErrorList { return resourceValue(c, m.Value) }

// resourceValue checks the value against the trigger's metricType: a whole percentage for
// Utilization, any positive quantity for AverageValue.
func resourceValue(c *check, v resource.Quantity) field.ErrorList {
	switch c.metricType {
	case autoscalingv2.UtilizationMetricType:
		if v.MilliValue()%1000 != 0 {
			return field.ErrorList{field.Invalid(c.path("value"), v.String(), "must be a whole percentage with metricType Utilization")}
		}
	case autoscalingv2.AverageValueMetricType, "":
	default:
		return field.ErrorList{field.NotSupported(c.trigger.Child("metricType"), string(c.metricType),
			[]string{string(autoscalingv2.UtilizationMetricType), string(autoscalingv2.AverageValueMetricType)})}
	}
	return nil
}
