package validate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
)

func ptr[T any](v T) *T { return &v }

// scaledObject is a valid ScaledObject with defaults applied, changed by the given edits.
func scaledObject(edits ...func(*v1alpha1.ScaledObject)) *v1alpha1.ScaledObject {
	so := &v1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop"},
		Spec: v1alpha1.ScaledObjectSpec{
			ScaleTargetRef:  &v1alpha1.ScaleTarget{APIVersion: "apps/v1", Kind: "Deployment", Name: "worker"},
			MinReplicaCount: ptr[int32](0),
			MaxReplicaCount: ptr[int32](10),
			Triggers: []v1alpha1.ScaleTriggers{{
				Type: "rabbitmq", Name: "queue", MetricType: autoscalingv2.AverageValueMetricType,
				Metadata: map[string]string{"hostFromEnv": "RABBITMQ_HOST", "queueName": "orders", "value": "5"},
			}},
		},
	}
	for _, e := range edits {
		e(so)
	}
	return so
}

func cpuTrigger(container string) v1alpha1.ScaleTriggers {
	md := map[string]string{"value": "50"}
	if container != "" {
		md["containerName"] = container
	}
	return v1alpha1.ScaleTriggers{Type: "cpu", MetricType: autoscalingv2.UtilizationMetricType, Metadata: md}
}

func podSpec(containers ...corev1.Container) *corev1.PodSpec {
	return &corev1.PodSpec{Containers: containers}
}

func container(name string, requests corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests}}
}

func hpa(name, target string, owner string) autoscalingv2.HorizontalPodAutoscaler {
	h := autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
		},
	}
	if owner != "" {
		h.OwnerReferences = []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: owner}}
	}
	return h
}

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestScaledObject(t *testing.T) {
	cpu := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	tests := map[string]struct {
		so    *v1alpha1.ScaledObject
		facts Facts
		want  []string
	}{
		"valid rabbitmq object": {so: scaledObject()},
		"valid cpu object with requests": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.MinReplicaCount = ptr[int32](1)
				so.Spec.Triggers = []v1alpha1.ScaleTriggers{cpuTrigger("")}
			}),
			facts: Facts{PodSpec: podSpec(container("app", cpu))},
		},
		"cpu request from a limit": {
			so:    scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, cpuTrigger("")) }),
			facts: Facts{PodSpec: podSpec(corev1.Container{Name: "app", Resources: corev1.ResourceRequirements{Limits: cpu}})},
		},
		"cpu request from a LimitRange default": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, cpuTrigger("")) }),
			facts: Facts{PodSpec: podSpec(container("app", nil)), LimitRanges: []corev1.LimitRange{{Spec: corev1.LimitRangeSpec{
				Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, DefaultRequest: cpu}}}}}},
		},
		"a LimitRange for pods does not count": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, cpuTrigger("")) }),
			facts: Facts{PodSpec: podSpec(container("app", nil)), LimitRanges: []corev1.LimitRange{{Spec: corev1.LimitRangeSpec{
				Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Max: cpu}}}}}},
			want: []string{"spec.triggers[1]: Forbidden: container app of the scale target has no cpu request (set resources.requests.cpu or a LimitRange default)"},
		},
		"memory checked in the named container only": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers = append(so.Spec.Triggers, v1alpha1.ScaleTriggers{Type: "memory", MetricType: autoscalingv2.AverageValueMetricType,
					Metadata: map[string]string{"value": "512Mi", "containerName": "sidecar"}})
			}),
			facts: Facts{PodSpec: podSpec(container("app", cpu), container("sidecar", cpu))},
			want:  []string{"spec.triggers[1]: Forbidden: container sidecar of the scale target has no memory request (set resources.requests.memory or a LimitRange default)"},
		},
		"containerName not in the pod": {
			so:    scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, cpuTrigger("ghost")) }),
			facts: Facts{PodSpec: podSpec(container("app", cpu))},
			want:  []string{`spec.triggers[1].metadata.containerName: Not found: "ghost"`},
		},
		"unknown target pod skips the request check": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, cpuTrigger("")) }),
		},
		"only cpu with min 0": {
			so:    scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = []v1alpha1.ScaleTriggers{cpuTrigger("")} }),
			facts: Facts{PodSpec: podSpec(container("app", cpu))},
			want:  []string{"spec.minReplicaCount: Invalid value: 0: must be at least 1 when every trigger is cpu or memory (they cannot scale from zero)"},
		},
		"min above max": {
			so:   scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.MinReplicaCount = ptr[int32](11) }),
			want: []string{"spec.minReplicaCount: Invalid value: 11: must be less than or equal to maxReplicaCount (10)"},
		},
		"idle equal to min": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.MinReplicaCount = ptr[int32](1)
				so.Spec.IdleReplicaCount = ptr[int32](1)
			}),
			want: []string{"spec.idleReplicaCount: Invalid value: 1: must be less than minReplicaCount (1)"},
		},
		"name too long for a label": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Name = "a-very-long-scaled-object-name-that-goes-past-the-label-limit-of-63"
			}),
			want: []string{
				`metadata.name: Invalid value: "a-very-long-scaled-object-name-that-goes-past-the-label-limit-of-63": must be no more than 63 characters`,
				`metadata.name: Invalid value: "keda-hpa-a-very-long-scaled-object-name-that-goes-past-the-label-limit-of-63": the HPA name must be no more than 63 characters`,
			},
		},
		"derived HPA name too long": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Name = "name-of-fifty-eight-characters-which-fits-a-label-alone-ok"
			}),
			want: []string{`metadata.name: Invalid value: "keda-hpa-name-of-fifty-eight-characters-which-fits-a-label-alone-ok": the HPA name must be no more than 63 characters`},
		},
		"duplicate trigger names": {
			so:   scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers = append(so.Spec.Triggers, so.Spec.Triggers[0]) }),
			want: []string{`spec.triggers[1].name: Duplicate value: "queue"`},
		},
		"unknown trigger type": {
			so:   scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers[0].Type = "rabbit" }),
			want: []string{`spec.triggers[0].type: Unsupported value: "rabbit": supported values: "aws-sqs-queue", "azure-queue", "cpu", "cron", "kafka", "memory", "metrics-api", "mysql", "nats-jetstream", "postgresql", "prometheus", "rabbitmq", "redis", "redis-streams"`},
		},
		"useCachedMetrics on cron": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers[0] = v1alpha1.ScaleTriggers{Type: "cron", UseCachedMetrics: true, Metadata: map[string]string{
					"timezone": "UTC", "start": "0 6 * * *", "end": "0 20 * * *", "desiredReplicas": "3"}}
			}),
			want: []string{"spec.triggers[0].useCachedMetrics: Invalid value: true: is not supported for cron triggers"},
		},
		"metadata the scaler cannot parse": {
			so:   scaledObject(func(so *v1alpha1.ScaledObject) { so.Spec.Triggers[0].Metadata["value"] = "lots" }),
			want: []string{`spec.triggers[0].metadata.value: Invalid value: "lots": must be a number`},
		},
		"host promised by the referenced authentication": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				delete(so.Spec.Triggers[0].Metadata, "hostFromEnv")
				so.Spec.Triggers[0].AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "rabbit"}
			}),
			facts: Facts{Auth: map[AuthRef][]string{{Kind: "TriggerAuthentication", Name: "rabbit"}: {"host"}}},
		},
		"authentication that does not provide the host": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				delete(so.Spec.Triggers[0].Metadata, "hostFromEnv")
				so.Spec.Triggers[0].AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "rabbit", Kind: "ClusterTriggerAuthentication"}
			}),
			facts: Facts{Auth: map[AuthRef][]string{{Kind: "ClusterTriggerAuthentication", Name: "rabbit"}: {"password"}}},
			want:  []string{"spec.triggers[0].metadata.host: Required value: set host, TriggerAuthentication parameter host or hostFromEnv"},
		},
		"authenticationRef of another kind": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers[0].AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "s", Kind: "Secret"}
			}),
			want: []string{`spec.triggers[0].authenticationRef.kind: Unsupported value: "Secret": supported values: "TriggerAuthentication", "ClusterTriggerAuthentication"`},
		},
		"valid formula": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue * 2 > 10 ? queue : 0", Target: "2"}}
			}),
		},
		"formula that does not compile": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue +", Target: "2"}}
			}),
			want: []string{`spec.advanced.scalingModifiers.formula: Invalid value: "queue +": does not compile: unexpected token EOF (1:7)`},
		},
		"formula naming an unknown trigger": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue + lag", Target: "2"}}
			}),
			want: []string{`spec.advanced.scalingModifiers.formula: Invalid value: "queue + lag": does not compile: unknown name lag (1:9)`},
		},
		"target not positive": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{Formula: "queue", Target: "-1", ActivationTarget: "x"}}
			}),
			want: []string{
				`spec.advanced.scalingModifiers.target: Invalid value: "-1": must be a positive number`,
				`spec.advanced.scalingModifiers.activationTarget: Invalid value: "x": must be a number`,
			},
		},
		"modifiers without formula or target": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{ScalingModifiers: &v1alpha1.ScalingModifiers{}}
			}),
			want: []string{
				"spec.advanced.scalingModifiers.target: Required value: scalingModifiers needs a target",
				"spec.advanced.scalingModifiers.formula: Required value: scalingModifiers needs a formula",
			},
		},
		"fallback without an AverageValue trigger": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Triggers[0].MetricType = autoscalingv2.ValueMetricType
				so.Spec.Fallback = &v1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}
			}),
			want: []string{"spec.fallback: Forbidden: needs at least one trigger other than cpu or memory with metricType AverageValue"},
		},
		"another ScaledObject scales the workload": {
			so:    scaledObject(),
			facts: Facts{ScaledObjects: []v1alpha1.ScaledObject{*scaledObject(func(so *v1alpha1.ScaledObject) { so.Name = "billing" })}},
			want:  []string{`spec.scaleTargetRef.name: Invalid value: "worker": Deployment worker is already scaled by ScaledObject billing`},
		},
		"updating itself is no conflict": {
			so:    scaledObject(),
			facts: Facts{ScaledObjects: []v1alpha1.ScaledObject{*scaledObject()}, HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("keda-hpa-orders", "worker", "orders")}},
		},
		"another ScaledObject claims the HPA name": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "shared"}}
			}),
			facts: Facts{ScaledObjects: []v1alpha1.ScaledObject{*scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Name = "billing"
				so.Spec.ScaleTargetRef.Name = "biller"
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "shared"}}
			})}},
			want: []string{`spec.advanced.horizontalPodAutoscalerConfig.name: Invalid value: "shared": HPA name shared is already used by ScaledObject billing`},
		},
		"foreign HPA on the workload": {
			so:    scaledObject(),
			facts: Facts{HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("worker", "worker", "")}},
			want:  []string{`spec.scaleTargetRef.name: Invalid value: "worker": Deployment worker is already scaled by HPA worker, which this ScaledObject does not own (annotate scaledobject.keda.sh/transfer-hpa-ownership=true to take it over)`},
		},
		"foreign HPA allowed by the ownership annotation": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{"validations.keda.sh/hpa-ownership": "false"}
			}),
			facts: Facts{HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("worker", "worker", "")}},
		},
		"fast-scale-up that is no boolean": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{"autoscaling.ebb.dev/fast-scale-up": "off", "autoscaling.keda.sh/paused": "maybe"}
			}),
			want: []string{`metadata.annotations[autoscaling.ebb.dev/fast-scale-up]: Invalid value: "off": must be true or false`},
		},
		"fast-scale-up false": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{"autoscaling.ebb.dev/fast-scale-up": "false"}
			}),
		},
		"foreign HPA taken over by transfer": {
			so: scaledObject(func(so *v1alpha1.ScaledObject) {
				so.Annotations = map[string]string{"scaledobject.keda.sh/transfer-hpa-ownership": "true"}
				so.Spec.Advanced = &v1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &v1alpha1.HorizontalPodAutoscalerConfig{Name: "worker"}}
			}),
			facts: Facts{HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("worker", "worker", "")}},
		},
		"HPA of another ScaledObject on the workload": {
			so:    scaledObject(),
			facts: Facts{HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("keda-hpa-old", "worker", "old")}},
			want:  []string{`spec.scaleTargetRef.name: Invalid value: "worker": Deployment worker is already scaled by HPA keda-hpa-old, which this ScaledObject does not own (annotate scaledobject.keda.sh/transfer-hpa-ownership=true to take it over)`},
		},
		"HPA with our name scaling something else": {
			so:    scaledObject(),
			facts: Facts{HPAs: []autoscalingv2.HorizontalPodAutoscaler{hpa("keda-hpa-orders", "other", "")}},
			want:  []string{`metadata.name: Invalid value: "keda-hpa-orders": HPA keda-hpa-orders already exists and scales Deployment other`},
		},
	}
	reg := trigger.Builtin()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, errorStrings(ScaledObject(tc.so, tc.facts, reg))); diff != "" {
				t.Errorf("ScaledObject (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScaledJob(t *testing.T) {
	valid := func(edits ...func(*v1alpha1.ScaledJob)) *v1alpha1.ScaledJob {
		sj := &v1alpha1.ScaledJob{
			ObjectMeta: metav1.ObjectMeta{Name: "resize", Namespace: "shop"},
			Spec: v1alpha1.ScaledJobSpec{
				JobTargetRef: &batchv1.JobSpec{},
				Triggers:     []v1alpha1.ScaleTriggers{{Type: "redis", Metadata: map[string]string{"address": "redis:6379", "listName": "images"}}},
			},
		}
		for _, e := range edits {
			e(sj)
		}
		return sj
	}
	tests := map[string]struct {
		sj   *v1alpha1.ScaledJob
		want []string
	}{
		"valid": {sj: valid()},
		"no job template": {
			sj:   valid(func(sj *v1alpha1.ScaledJob) { sj.Spec.JobTargetRef = nil }),
			want: []string{"spec.jobTargetRef: Required value: a ScaledJob needs a Job template"},
		},
		"bad running job percentage": {
			sj:   valid(func(sj *v1alpha1.ScaledJob) { sj.Spec.ScalingStrategy.CustomScalingRunningJobPercentage = "half" }),
			want: []string{`spec.scalingStrategy.customScalingRunningJobPercentage: Invalid value: "half": must be a non-negative decimal number such as 0.5`},
		},
		"trigger metadata missing": {
			sj:   valid(func(sj *v1alpha1.ScaledJob) { delete(sj.Spec.Triggers[0].Metadata, "listName") }),
			want: []string{"spec.triggers[0].metadata.listName: Required value"},
		},
	}
	reg := trigger.Builtin()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, errorStrings(ScaledJob(tc.sj, nil, reg))); diff != "" {
				t.Errorf("ScaledJob (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTriggerAuthentication(t *testing.T) {
	tests := map[string]struct {
		spec v1alpha1.TriggerAuthenticationSpec
		want []string
	}{
		"secrets only": {spec: v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{{Parameter: "host", Name: "s", Key: "k"}}}},
		"complete token vault": {spec: v1alpha1.TriggerAuthenticationSpec{HashiCorpVault: &v1alpha1.HashiCorpVault{
			Address: "https://vault:8200", Authentication: "token", Credential: &v1alpha1.Credential{Token: "t"},
			Secrets: []v1alpha1.VaultSecret{{Parameter: "password", Path: "secret/data/db", Key: "password"}}}}},
		"token vault without token": {
			spec: v1alpha1.TriggerAuthenticationSpec{HashiCorpVault: &v1alpha1.HashiCorpVault{
				Address: "https://vault:8200", Authentication: "token",
				Secrets: []v1alpha1.VaultSecret{{Parameter: "password", Path: "secret/data/db", Key: "password"}}}},
			want: []string{"spec.hashiCorpVault.credential.token: Required value: token authentication needs a token"},
		},
		"kubernetes vault without role, mount, account or secrets": {
			spec: v1alpha1.TriggerAuthenticationSpec{HashiCorpVault: &v1alpha1.HashiCorpVault{Address: "vault:8200", Authentication: "kubernetes"}},
			want: []string{
				`spec.hashiCorpVault.address: Invalid value: "vault:8200": must be an http or https URL`,
				"spec.hashiCorpVault.role: Required value: kubernetes authentication needs a Vault role",
				"spec.hashiCorpVault.mount: Required value: kubernetes authentication needs the auth mount path",
				"spec.hashiCorpVault.credential.serviceAccountName: Required value: kubernetes authentication needs credential.serviceAccountName or credential.serviceAccount",
				"spec.hashiCorpVault.secrets: Required value: list at least one secret to read",
			},
		},
		"vault secret without path": {
			spec: v1alpha1.TriggerAuthenticationSpec{HashiCorpVault: &v1alpha1.HashiCorpVault{
				Address: "http://vault:8200", Authentication: "token", Credential: &v1alpha1.Credential{Token: "t"},
				Secrets: []v1alpha1.VaultSecret{{Parameter: "password", Key: "password"}, {Parameter: "cert", Path: "pki/issue/x", Type: "pki"}}}},
			want: []string{"spec.hashiCorpVault.secrets[0].path: Required value"},
		},
		"bound token incomplete": {
			spec: v1alpha1.TriggerAuthenticationSpec{BoundServiceAccountToken: []v1alpha1.BoundServiceAccountToken{
				{Parameter: "bearerToken"}, {ServiceAccountName: "Not_Valid"}}},
			want: []string{
				"spec.boundServiceAccountToken[0].serviceAccountName: Required value: name the service account to request a token for",
				"spec.boundServiceAccountToken[1].parameter: Required value: name the trigger parameter the token fills",
				`spec.boundServiceAccountToken[1].serviceAccountName: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, errorStrings(TriggerAuthentication(&tc.spec))); diff != "" {
				t.Errorf("TriggerAuthentication (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	spec := v1alpha1.TriggerAuthenticationSpec{
		SecretTargetRef:          []v1alpha1.AuthSecretTargetRef{{Parameter: "host"}},
		ConfigMapTargetRef:       []v1alpha1.AuthConfigMapTargetRef{{Parameter: "vhost"}},
		Env:                      []v1alpha1.AuthEnvironment{{Parameter: "username"}},
		HashiCorpVault:           &v1alpha1.HashiCorpVault{Secrets: []v1alpha1.VaultSecret{{Parameter: "password"}}},
		BoundServiceAccountToken: []v1alpha1.BoundServiceAccountToken{{Parameter: "bearerToken"}},
	}
	want := []string{"host", "vhost", "username", "password", "bearerToken"}
	if diff := cmp.Diff(want, Parameters(&spec)); diff != "" {
		t.Errorf("Parameters (-want +got):\n%s", diff)
	}
}
