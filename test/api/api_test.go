package api

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

// TestAPI runs every proof against one control plane: starting one takes seconds on 2 cores.
func TestAPI(t *testing.T) {
	e := start(t)
	for _, name := range []string{"rabbitmq-deployment", "azure-functions-deployment", "my-deployment", "my-deployment-cron",
		"votes", "redis-streams-consumer", "airflow-worker", "worker", "sub", "dummy", "nginx-deployment", "azurequeue-function",
		"my-deployment-cpu", "my-deployment-memory", "busy", "legacy", "other", "shared-target"} {
		e.deployment(t, name, true)
	}
	e.deployment(t, "norequests", false)
	t.Run("documented manifests are accepted with defaults", func(t *testing.T) { testAccepted(t, e) })
	t.Run("invalid manifests are rejected", func(t *testing.T) { testRejected(t, e) })
	t.Run("LimitRange defaults count as requests", func(t *testing.T) { testLimitRange(t, e) })
	t.Run("updates revalidate only a changed spec", func(t *testing.T) { testUpdates(t, e) })
	t.Run("printer columns and short names", func(t *testing.T) { testPrinterColumns(t, e) })
}

// defaults are the values the CRDs fill in, by kind, as paths below spec.
var defaults = map[string]map[string]any{
	"ScaledObject": {
		"pollingInterval": int64(30), "cooldownPeriod": int64(300), "initialCooldownPeriod": int64(0),
		"minReplicaCount": int64(0), "maxReplicaCount": int64(100),
		"scaleTargetRef.apiVersion": "apps/v1", "scaleTargetRef.kind": "Deployment",
	},
	"ScaledJob": {
		"pollingInterval": int64(30), "successfulJobsHistoryLimit": int64(100), "failedJobsHistoryLimit": int64(100),
		"minReplicaCount": int64(0), "maxReplicaCount": int64(100),
		"rollout.strategy": "default", "rollout.propagationPolicy": "background",
		"scalingStrategy.strategy": "default", "scalingStrategy.multipleScalersCalculation": "max",
	},
}

func testAccepted(t *testing.T, e *env) {
	files, err := filepath.Glob(filepath.Join("testdata", "accepted", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range files { // sorted: the authentications file comes first
		for _, obj := range manifests(t, f) {
			kinds[obj.GetKind()]++
			t.Run(filepath.Base(f)+"/"+obj.GetName(), func(t *testing.T) {
				sent := obj.DeepCopy()
				if err := e.create(t.Context(), obj); err != nil {
					t.Fatalf("create: %v", err)
				}
				got, err := e.get(t.Context(), obj)
				if err != nil {
					t.Fatal(err)
				}
				checkDefaults(t, sent, got)
			})
		}
	}
	want := map[string]int{"ScaledObject": 15, "ScaledJob": 2, "TriggerAuthentication": 7, "ClusterTriggerAuthentication": 1}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("manifests by kind (-want +got):\n%s", diff)
	}
}

// checkDefaults compares every spec value sent with what came back, and every default the
// manifest left out with the CRD's default.
func checkDefaults(t *testing.T, sent, got *unstructured.Unstructured) {
	t.Helper()
	sentSpec, _, _ := unstructured.NestedMap(sent.Object, "spec")
	gotSpec, _, _ := unstructured.NestedMap(got.Object, "spec")
	want := sentSpec
	for path, def := range defaults[sent.GetKind()] {
		fields := strings.Split(path, ".")
		if _, set, _ := unstructured.NestedFieldNoCopy(sentSpec, fields...); !set {
			if err := unstructured.SetNestedField(want, def, fields...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if triggers, ok := want["triggers"].([]any); ok {
		for _, tr := range triggers {
			if m := tr.(map[string]any); m["metricType"] == nil {
				m["metricType"] = "AverageValue"
			}
		}
	}
	if fb, ok := want["fallback"].(map[string]any); ok && fb["behavior"] == nil {
		fb["behavior"] = "static"
	}
	if sm, _, _ := unstructured.NestedMap(want, "advanced", "scalingModifiers"); sm != nil && sm["metricType"] == nil {
		_ = unstructured.SetNestedField(want, "AverageValue", "advanced", "scalingModifiers", "metricType")
	}
	// The API server fills the Job template's own defaults too; those belong to batch/v1.
	if jt, ok := gotSpec["jobTargetRef"]; ok {
		want["jobTargetRef"] = jt
	}
	if diff := cmp.Diff(want, gotSpec); diff != "" {
		t.Errorf("spec after admission (-want +got):\n%s", diff)
	}
}

func testLimitRange(t *testing.T, e *env) {
	ctx := t.Context()
	lr := &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: namespace},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
		}}},
	}
	so := manifest(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: cpu-on-limitrange}
spec:
  scaleTargetRef: {name: norequests}
  minReplicaCount: 1
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]`)
	err := e.create(ctx, so)
	wantDenied := `admission webhook "vscaledobject.keda.sh" denied the request: spec.triggers[0]: Forbidden: container app of the scale target has no cpu request (set resources.requests.cpu or a LimitRange default)`
	if err == nil || err.Error() != wantDenied {
		t.Fatalf("without a LimitRange: err = %v, want %s", err, wantDenied)
	}
	if _, err := e.kube.CoreV1().LimitRanges(namespace).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.create(ctx, so); err != nil {
		t.Errorf("with a LimitRange cpu default: %v", err)
	}
}

func testPrinterColumns(t *testing.T, e *env) {
	ctx := t.Context()
	// Give one ScaledObject a status, as the actuator would, so the status columns have values.
	so := manifest(t, `{apiVersion: keda.sh/v1alpha1, kind: ScaledObject, metadata: {name: rabbitmq-scaledobject}}`)
	got, err := e.get(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]any{
		"scaleTargetKind": "apps/v1.Deployment", "triggersTypes": "rabbitmq", "authenticationsTypes": "keda-trigger-auth-rabbitmq-conn",
		"conditions": []any{
			map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady"},
			map[string]any{"type": "Active", "status": "False"},
			map[string]any{"type": "Fallback", "status": "False"},
			map[string]any{"type": "Paused", "status": "False"},
		},
	}
	if err := unstructured.SetNestedField(got.Object, status, "status"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.resource(got).UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update status: %v", err)
	}

	tests := map[string]struct {
		path    string
		columns []string
		row     string
		cells   []any
	}{
		"so": {
			path:    "/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects",
			columns: []string{"Name", "ScaleTargetKind", "ScaleTargetName", "Min", "Max", "Ready", "Active", "Fallback", "Paused", "Triggers", "Authentications", "Age"},
			row:     "rabbitmq-scaledobject",
			cells:   []any{"rabbitmq-scaledobject", "apps/v1.Deployment", "rabbitmq-deployment", int64(0), int64(100), "True", "False", "False", "False", "rabbitmq", "keda-trigger-auth-rabbitmq-conn"},
		},
		"sj": {
			path:    "/apis/keda.sh/v1alpha1/namespaces/shop/scaledjobs",
			columns: []string{"Name", "Min", "Max", "Triggers", "Authentication", "Ready", "Active", "Paused", "Age"},
			row:     "rabbitmq-consumer",
			cells:   []any{"rabbitmq-consumer", int64(0), int64(30), "rabbitmq", nil, nil, nil, nil},
		},
		"ta": {
			path:    "/apis/keda.sh/v1alpha1/namespaces/shop/triggerauthentications",
			columns: []string{"Name", "PodIdentity", "Secret", "Env", "VaultAddress", "ScaledObjects", "ScaledJobs", "Age"},
			row:     "keda-trigger-auth-vault",
			cells:   []any{"keda-trigger-auth-vault", nil, nil, nil, "https://vault.vault.svc:8200", nil, nil},
		},
		"cta": {
			path:    "/apis/keda.sh/v1alpha1/clustertriggerauthentications",
			columns: []string{"Name", "PodIdentity", "Secret", "Env", "VaultAddress", "ScaledObjects", "ScaledJobs", "Age"},
			row:     "keda-cluster-trigger-auth-kafka",
			cells:   []any{"keda-cluster-trigger-auth-kafka", nil, "keda-kafka-secrets", nil, nil, nil, nil},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			table := getTable(t, e, tc.path)
			var cols []string
			for _, c := range table.ColumnDefinitions {
				cols = append(cols, c.Name)
			}
			if diff := cmp.Diff(tc.columns, cols); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			i := slices.IndexFunc(table.Rows, func(r metav1.TableRow) bool { return r.Cells[0] == tc.row })
			if i < 0 {
				t.Fatalf("no row %s", tc.row)
			}
			cells := table.Rows[i].Cells[:len(tc.cells)] // Age varies
			if diff := cmp.Diff(tc.cells, normalize(cells)); diff != "" {
				t.Errorf("row %s (-want +got):\n%s", tc.row, diff)
			}
		})
	}

	t.Run("kubectl get so,sj,ta,cta", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Fatalf("kubectl is part of the machine image: %v", err)
		}
		out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", e.cluster.Kubeconfig, "-n", namespace, "get", "so,sj,ta,cta").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl: %v\n%s", err, out)
		}
		// One table per kind, each opened by its header line.
		var headers [][]string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "NAME ") {
				headers = append(headers, strings.Fields(line))
			}
		}
		want := [][]string{
			{"NAME", "SCALETARGETKIND", "SCALETARGETNAME", "MIN", "MAX", "READY", "ACTIVE", "FALLBACK", "PAUSED", "TRIGGERS", "AUTHENTICATIONS", "AGE"},
			{"NAME", "MIN", "MAX", "TRIGGERS", "AUTHENTICATION", "READY", "ACTIVE", "PAUSED", "AGE"},
			{"NAME", "PODIDENTITY", "SECRET", "ENV", "VAULTADDRESS", "AGE"},
			{"NAME", "PODIDENTITY", "SECRET", "ENV", "VAULTADDRESS", "AGE"},
		}
		if diff := cmp.Diff(want, headers); diff != "" {
			t.Errorf("kubectl headers (-want +got):\n%s\n%s", diff, out)
		}
		row := "scaledobject.keda.sh/rabbitmq-scaledobject apps/v1.Deployment rabbitmq-deployment 0 100 True False False False rabbitmq keda-trigger-auth-rabbitmq-conn"
		if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), row) {
			t.Errorf("kubectl output lacks the row %q:\n%s", row, out)
		}
	})
}

// normalize turns JSON numbers into int64 so cells compare with the table's literals.
func normalize(cells []any) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		if f, ok := c.(float64); ok {
			out[i] = int64(f)
		} else {
			out[i] = c
		}
	}
	return out
}

// getTable asks for the server-side Table rendering kubectl prints.
func getTable(t *testing.T, e *env, path string) *metav1.Table {
	t.Helper()
	client, err := rest.HTTPClientFor(e.cluster.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.cluster.APIServerURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil {
		t.Fatal(err)
	}
	return &table
}

// testUpdates: once a foreign HPA appears on a workload, ebb can still update its ScaledObject's
// metadata (labels, finalizers), but a spec change is checked against the cluster again.
func testUpdates(t *testing.T, e *env) {
	ctx := t.Context()
	if err := e.create(ctx, manifest(t, doc("ScaledObject", "updated", `{scaleTargetRef: {name: other}, triggers: [`+rabbit+`]}`))); err != nil {
		t.Fatal(err)
	}
	foreign := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "intruder", Namespace: namespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "other"},
			MaxReplicas:    3,
		},
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	so, err := e.get(ctx, manifest(t, `{apiVersion: keda.sh/v1alpha1, kind: ScaledObject, metadata: {name: updated}}`))
	if err != nil {
		t.Fatal(err)
	}
	so.SetLabels(map[string]string{"scaledobject.keda.sh/name": "updated"})
	so.SetFinalizers([]string{"finalizer.keda.sh"})
	if so, err = e.resource(so).Update(ctx, so, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("metadata update: %v", err)
	}
	if err := unstructured.SetNestedField(so.Object, int64(5), "spec", "maxReplicaCount"); err != nil {
		t.Fatal(err)
	}
	_, err = e.resource(so).Update(ctx, so, metav1.UpdateOptions{})
	want := denySO + `spec.scaleTargetRef.name: Invalid value: "other": Deployment other is already scaled by HPA intruder, which this ScaledObject does not own (annotate scaledobject.keda.sh/transfer-hpa-ownership=true to take it over)`
	if err == nil || err.Error() != want {
		t.Errorf("spec update: err = %v, want %s", err, want)
	}
	// Leave nothing behind that other subtests could trip on.
	if err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Delete(ctx, "intruder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
