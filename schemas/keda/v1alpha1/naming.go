package v1alpha1

import (
	"strconv"
	"strings"
)

// HPAName is the name of the HPA ebb manages for so: advanced.horizontalPodAutoscalerConfig.name
// when set, keda-hpa-<name> otherwise.
func HPAName(so *ScaledObject) string {
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
		return a.HorizontalPodAutoscalerConfig.Name
	}
	return DefaultHPANamePrefix + so.Name
}

// metricNameReplacer maps the characters KEDA does not allow in metric names to '-'.
var metricNameReplacer = strings.NewReplacer("/", "-", ".", "-", ":", "-", "%", "-", "(", "-", ")", "-")

// MetricName is the external metric name of the trigger at index: s<index>-<scaler>, plus
// -<detail> when detail is not empty, with / . : % ( ) turned into '-'.
func MetricName(index int, scaler, detail string) string {
	name := "s" + strconv.Itoa(index) + "-" + scaler
	if detail != "" {
		name += "-" + detail
	}
	return metricNameReplacer.Replace(name)
}

// AuthenticationKind is ref's kind with the default applied.
func AuthenticationKind(ref *AuthenticationRef) string {
	if ref == nil || ref.Kind == "" {
		return KindTriggerAuthentication
	}
	return ref.Kind
}
