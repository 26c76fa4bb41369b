package api

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// doc builds a keda.sh manifest of kind named name with the given spec (YAML flow style).
func doc(kind, name, spec string) string {
	return "apiVersion: keda.sh/v1alpha1\nkind: " + kind + "\nmetadata: {name: " + name + "}\nspec: " + spec
}

const (
	rabbit   = `{type: rabbitmq, name: queue, metadata: {hostFromEnv: RABBITMQ_HOST, queueName: orders}}`
	denySO   = `admission webhook "vscaledobject.keda.sh" denied the request: `
	denySJ   = `admission webhook "vscaledjob.keda.sh" denied the request: `
	denyTA   = `admission webhook "vtriggerauthentication.keda.sh" denied the request: `
	denyCTA  = `admission webhook "vclustertriggerauthentication.keda.sh" denied the request: `
	jobSpec  = `{template: {spec: {containers: [{name: c, image: busybox}], restartPolicy: Never}}}`
	longName = "scaledobject-with-a-name-that-is-longer-than-sixty-three-characters"
)

func testRejected(t *testing.T, e *env) {
	ctx := t.Context()
	// Cluster state the conflict rules see.
	for _, m := range []string{
		doc("ScaledObject", "taken", `{scaleTargetRef: {name: busy}, triggers: [`+rabbit+`]}`),
		doc("ScaledObject", "holder", `{scaleTargetRef: {name: shared-target}, advanced: {horizontalPodAutoscalerConfig: {name: shared-hpa}}, triggers: [`+rabbit+`]}`),
	} {
		if err := e.create(ctx, manifest(t, m)); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	legacy := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: namespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "legacy"},
			MaxReplicas:    5,
		},
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Create(ctx, legacy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		manifest string
		want     string
	}{
		// Rules local to one object, in the CRD schema and its CEL rules.
		"min above max": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, minReplicaCount: 5, maxReplicaCount: 2, triggers: [`+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: spec: Invalid value: minReplicaCount must be less than or equal to maxReplicaCount`,
		},
		"idle not below min": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, idleReplicaCount: 0, triggers: [`+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: spec: Invalid value: idleReplicaCount must be less than minReplicaCount`,
		},
		"duplicate trigger names": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [`+rabbit+`, `+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: spec: Invalid value: trigger names must be unique`,
		},
		"no triggers": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: []}`),
			`ScaledObject.keda.sh "bad" is invalid: spec.triggers: Invalid value: 0: spec.triggers in body should have at least 1 items`,
		},
		"no scale target": {
			doc("ScaledObject", "bad", `{triggers: [`+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: [spec.scaleTargetRef: Required value, <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`,
		},
		"unknown metric type": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: prometheus, metricType: Average, metadata: {serverAddress: "http://p:9090", query: up, threshold: "1"}}]}`),
			`ScaledObject.keda.sh "bad" is invalid: [spec.triggers[0].metricType: Unsupported value: "Average": supported values: "AverageValue", "Value", "Utilization", <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`,
		},
		"unknown fallback behavior": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, fallback: {failureThreshold: 3, replicas: 2, behavior: always}, triggers: [`+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: [spec.fallback.behavior: Unsupported value: "always": supported values: "static", "currentReplicas", "currentReplicasIfHigher", "currentReplicasIfLower", <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`,
		},
		"polling interval zero": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, pollingInterval: 0, triggers: [`+rabbit+`]}`),
			`ScaledObject.keda.sh "bad" is invalid: spec.pollingInterval: Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1`,
		},
		"unknown job scaling strategy": {
			doc("ScaledJob", "bad", `{jobTargetRef: `+jobSpec+`, scalingStrategy: {strategy: greedy}, triggers: [`+rabbit+`]}`),
			`ScaledJob.keda.sh "bad" is invalid: [spec.scalingStrategy.strategy: Unsupported value: "greedy": supported values: "default", "custom", "accurate", "eager", <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`,
		},

		// Rules in the webhook.
		"unknown trigger type": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq-queue, metadata: {queueName: q}}]}`),
			denySO + `spec.triggers[0].type: Unsupported value: "rabbitmq-queue": supported values: "aws-sqs-queue", "azure-queue", "cpu", "cron", "kafka", "memory", "metrics-api", "mysql", "nats-jetstream", "postgresql", "prometheus", "rabbitmq", "redis", "redis-streams"`,
		},
		"name over 63 characters": {
			doc("ScaledObject", longName, `{scaleTargetRef: {name: other}, triggers: [`+rabbit+`]}`),
			denySO + `metadata.name: Invalid value: "` + longName + `": must be no more than 63 characters; metadata.name: Invalid value: "keda-hpa-` + longName + `": the HPA name must be no more than 63 characters`,
		},
		"derived HPA name over 63 characters": {
			doc("ScaledObject", "an-object-name-of-fifty-seven-characters-fits-a-label-ok", `{scaleTargetRef: {name: other}, triggers: [`+rabbit+`]}`),
			denySO + `metadata.name: Invalid value: "keda-hpa-an-object-name-of-fifty-seven-characters-fits-a-label-ok": the HPA name must be no more than 63 characters`,
		},
		"useCachedMetrics on cpu": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, minReplicaCount: 1, triggers: [{type: cpu, metricType: Utilization, useCachedMetrics: true, metadata: {value: "50"}}]}`),
			denySO + `spec.triggers[0].useCachedMetrics: Invalid value: true: is not supported for cpu triggers`,
		},
		"useCachedMetrics on cron": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: cron, useCachedMetrics: true, metadata: {timezone: UTC, start: "0 6 * * *", end: "0 20 * * *", desiredReplicas: "2"}}]}`),
			denySO + `spec.triggers[0].useCachedMetrics: Invalid value: true: is not supported for cron triggers`,
		},
		"rabbitmq without queue": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, metadata: {host: "amqp://rmq:5672"}}]}`),
			denySO + `spec.triggers[0].metadata.queueName: Required value`,
		},
		"rabbitmq without host anywhere": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, metadata: {queueName: q}}]}`),
			denySO + `spec.triggers[0].metadata.host: Required value: set host, TriggerAuthentication parameter host or hostFromEnv`,
		},
		"rabbitmq MessageRate over amqp": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, metadata: {host: "amqp://rmq:5672", queueName: q, mode: MessageRate, value: "10"}}]}`),
			denySO + `spec.triggers[0].metadata.mode: Invalid value: "MessageRate": needs the http protocol (the management API), not amqp`,
		},
		"kafka lag threshold not a number": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, lagThreshold: ten}}]}`),
			denySO + `spec.triggers[0].metadata.lagThreshold: Invalid value: "ten": must be an integer`,
		},
		"kafka offset policy": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, offsetResetPolicy: newest}}]}`),
			denySO + `spec.triggers[0].metadata.offsetResetPolicy: Unsupported value: "newest": supported values: "latest", "earliest"`,
		},
		"cron time zone": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: cron, metadata: {timezone: Mars/Olympus, start: "0 6 * * *", end: "0 20 * * *", desiredReplicas: "2"}}]}`),
			denySO + `spec.triggers[0].metadata.timezone: Invalid value: "Mars/Olympus": must be an IANA time zone such as Europe/Berlin`,
		},
		"prometheus server address": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: prometheus, metadata: {serverAddress: "prometheus:9090", query: up, threshold: "1"}}]}`),
			denySO + `spec.triggers[0].metadata.serverAddress: Invalid value: "prometheus:9090": must be an http or https URL`,
		},
		"redis without address": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: redis, metadata: {listName: jobs}}]}`),
			denySO + `spec.triggers[0].metadata.address: Required value: set address, or host and port (in metadata, <name>FromEnv or the TriggerAuthentication)`,
		},
		"postgresql target zero": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: postgresql, metadata: {connectionFromEnv: PG, query: "SELECT 1", targetQueryValue: "0"}}]}`),
			denySO + `spec.triggers[0].metadata.targetQueryValue: Invalid value: "0": must be greater than 0`,
		},
		"Utilization on an external trigger": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, metricType: Utilization, metadata: {hostFromEnv: H, queueName: q}}]}`),
			denySO + `spec.triggers[0].metricType: Unsupported value: "Utilization": supported values: "AverageValue", "Value"`,
		},
		"fractional cpu utilization": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, minReplicaCount: 1, triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50.5"}}]}`),
			denySO + `spec.triggers[0].metadata.value: Invalid value: "50500m": must be a whole percentage with metricType Utilization`,
		},
		"authenticationRef of another kind": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, authenticationRef: {name: s, kind: Secret}, metadata: {queueName: q}}]}`),
			denySO + `spec.triggers[0].authenticationRef.kind: Unsupported value: "Secret": supported values: "TriggerAuthentication", "ClusterTriggerAuthentication"`,
		},
		"authentication that lacks the parameter": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: rabbitmq, authenticationRef: {name: keda-trigger-auth-redis-secret}, metadata: {queueName: q}}]}`),
			denySO + `spec.triggers[0].metadata.host: Required value: set host, TriggerAuthentication parameter host or hostFromEnv`,
		},
		"formula that does not compile": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, advanced: {scalingModifiers: {formula: "queue *", target: "2"}}, triggers: [`+rabbit+`]}`),
			denySO + `spec.advanced.scalingModifiers.formula: Invalid value: "queue *": does not compile: unexpected token EOF (1:7)`,
		},
		"modifier target not positive": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, advanced: {scalingModifiers: {formula: "queue", target: "0"}}, triggers: [`+rabbit+`]}`),
			denySO + `spec.advanced.scalingModifiers.target: Invalid value: "0": must be a positive number`,
		},
		"fallback without an AverageValue trigger": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, fallback: {failureThreshold: 3, replicas: 2}, triggers: [{type: rabbitmq, metricType: Value, metadata: {hostFromEnv: H, queueName: q}}]}`),
			denySO + `spec.fallback: Forbidden: needs at least one trigger other than cpu or memory with metricType AverageValue`,
		},
		"only cpu and memory with min 0": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}, {type: memory, metricType: Utilization, metadata: {value: "80"}}]}`),
			denySO + `spec.minReplicaCount: Invalid value: 0: must be at least 1 when every trigger is cpu or memory (they cannot scale from zero)`,
		},
		"cpu on a workload without requests": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: norequests}, minReplicaCount: 1, triggers: [{type: memory, metricType: AverageValue, metadata: {value: 256Mi}}]}`),
			denySO + `spec.triggers[0]: Forbidden: container app of the scale target has no memory request (set resources.requests.memory or a LimitRange default)`,
		},
		"memory on a container that does not exist": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, minReplicaCount: 1, triggers: [{type: memory, metricType: Utilization, metadata: {value: "80", containerName: sidecar}}]}`),
			denySO + `spec.triggers[0].metadata.containerName: Not found: "sidecar"`,
		},
		"workload scaled by another ScaledObject": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: busy}, triggers: [`+rabbit+`]}`),
			denySO + `spec.scaleTargetRef.name: Invalid value: "busy": Deployment busy is already scaled by ScaledObject taken`,
		},
		"workload scaled by a foreign HPA": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: legacy}, triggers: [`+rabbit+`]}`),
			denySO + `spec.scaleTargetRef.name: Invalid value: "legacy": Deployment legacy is already scaled by HPA legacy, which this ScaledObject does not own (annotate scaledobject.keda.sh/transfer-hpa-ownership=true to take it over)`,
		},
		"HPA name claimed by another ScaledObject": {
			doc("ScaledObject", "bad", `{scaleTargetRef: {name: other}, advanced: {horizontalPodAutoscalerConfig: {name: shared-hpa}}, triggers: [`+rabbit+`]}`),
			denySO + `spec.advanced.horizontalPodAutoscalerConfig.name: Invalid value: "shared-hpa": HPA name shared-hpa is already used by ScaledObject holder`,
		},
		"ScaledJob metadata the scaler cannot parse": {
			doc("ScaledJob", "bad", `{jobTargetRef: `+jobSpec+`, triggers: [{type: redis, metadata: {address: "redis:6379", listName: jobs, listLength: lots}}]}`),
			denySJ + `spec.triggers[0].metadata.listLength: Invalid value: "lots": must be an integer`,
		},
		"fast-scale-up that is no boolean": {
			"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: bad, annotations: {autoscaling.ebb.dev/fast-scale-up: \"off\"}}\nspec: {scaleTargetRef: {name: other}, triggers: [" + rabbit + "]}",
			denySO + `metadata.annotations[autoscaling.ebb.dev/fast-scale-up]: Invalid value: "off": must be true or false`,
		},
		"ScaledJob running job percentage": {
			doc("ScaledJob", "bad", `{jobTargetRef: `+jobSpec+`, scalingStrategy: {strategy: custom, customScalingRunningJobPercentage: half}, triggers: [`+rabbit+`]}`),
			denySJ + `spec.scalingStrategy.customScalingRunningJobPercentage: Invalid value: "half": must be a non-negative decimal number such as 0.5`,
		},
		"Vault token authentication without a token": {
			doc("TriggerAuthentication", "bad", `{hashiCorpVault: {address: "https://vault:8200", authentication: token, secrets: [{parameter: password, path: secret/db, key: password}]}}`),
			denyTA + `spec.hashiCorpVault.credential.token: Required value: token authentication needs a token`,
		},
		"Vault kubernetes authentication without role": {
			doc("TriggerAuthentication", "bad", `{hashiCorpVault: {address: "https://vault:8200", authentication: kubernetes, mount: kubernetes, credential: {serviceAccountName: keda}, secrets: [{parameter: password, path: secret/db, key: password}]}}`),
			denyTA + `spec.hashiCorpVault.role: Required value: kubernetes authentication needs a Vault role`,
		},
		"bound token with an invalid service account": {
			doc("TriggerAuthentication", "bad", `{boundServiceAccountToken: [{parameter: bearerToken, serviceAccountName: ""}]}`),
			denyTA + `spec.boundServiceAccountToken[0].serviceAccountName: Required value: name the service account to request a token for`,
		},
		"ClusterTriggerAuthentication with Vault and no secrets": {
			doc("ClusterTriggerAuthentication", "bad", `{hashiCorpVault: {address: "https://vault:8200", authentication: token, credential: {token: t}, secrets: []}}`),
			denyCTA + `spec.hashiCorpVault.secrets: Required value: list at least one secret to read`,
		},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d invalid manifests; the issue asks for at least 30", len(tests))
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := e.create(t.Context(), manifest(t, tc.manifest))
			if err == nil {
				t.Fatalf("admitted; want %s", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans several lines")
			}
		})
	}
}
