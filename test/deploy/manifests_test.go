package deploy

import (
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"ebb.dev/bus"
	"ebb.dev/services/poller/scaler"
)

// TestReplicas checks what runs in each overlay: which workloads, with how many replicas.
func TestReplicas(t *testing.T) {
	perSource := map[string]int64{"ebb-bus": 1, "ebb-decider": 1, "ebb-actuator": 1, "ebb-metrics-api": 1}
	for _, kind := range scaler.Builtin().Kinds() {
		perSource["ebb-poller-"+kind] = 1 // every type the poller polls, and no all-types poller
	}
	tests := map[string]map[string]int64{
		"default":            {"ebb-bus": 1, "ebb-poller": 1, "ebb-decider": 1, "ebb-actuator": 1, "ebb-metrics-api": 1},
		"ha":                 {"ebb-bus": 3, "ebb-poller": 3, "ebb-decider": 2, "ebb-actuator": 2, "ebb-metrics-api": 2},
		"per-source-pollers": perSource,
	}
	for overlay, want := range tests {
		t.Run(overlay, func(t *testing.T) {
			got := map[string]int64{}
			for _, w := range workloads(MustObjects(t, overlay)) {
				n, _, _ := unstructured.NestedInt64(w.Object, "spec", "replicas")
				got[w.GetName()] = n
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("replicas by workload (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkloads checks every workload of every overlay for what the base promises: the ebb
// image, the restricted security context, requests and limits, an existing ServiceAccount, and
// flags written as -name=value.
func TestWorkloads(t *testing.T) {
	for _, overlay := range Overlays() {
		objs := MustObjects(t, overlay)
		for _, w := range workloads(objs) {
			t.Run(overlay+"/"+w.GetName(), func(t *testing.T) {
				pod, _, _ := unstructured.NestedMap(w.Object, "spec", "template", "spec")
				c, err := Container(objs, w.GetName())
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]any{
					"pod.runAsNonRoot":                   true,
					"pod.seccompProfile":                 "RuntimeDefault",
					"container.image":                    "ebb:dev",
					"container.allowPrivilegeEscalation": false,
					"container.readOnlyRootFilesystem":   true,
					"container.capabilities.drop":        []any{"ALL"},
					"container.privileged":               nil,
					"resources":                          "requests and limits of cpu and memory",
					"serviceAccount":                     "exists",
				}
				got := map[string]any{
					"pod.runAsNonRoot":                   nested(pod, "securityContext", "runAsNonRoot"),
					"pod.seccompProfile":                 nested(pod, "securityContext", "seccompProfile", "type"),
					"container.image":                    c["image"],
					"container.allowPrivilegeEscalation": nested(c, "securityContext", "allowPrivilegeEscalation"),
					"container.readOnlyRootFilesystem":   nested(c, "securityContext", "readOnlyRootFilesystem"),
					"container.capabilities.drop":        nested(c, "securityContext", "capabilities", "drop"),
					"container.privileged":               nested(c, "securityContext", "privileged"),
					"resources":                          resources(c),
					"serviceAccount":                     exists(objs, "ServiceAccount", w.GetNamespace(), nested(pod, "serviceAccountName")),
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				args, _, _ := unstructured.NestedStringSlice(c, "args")
				for _, a := range args[1:] {
					if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") || !strings.Contains(a, "=") {
						t.Errorf("argument %q: write flags as -name=value", a)
					}
				}
			})
		}
	}
}

// TestProbes checks that every service is probed on the health endpoint it serves.
func TestProbes(t *testing.T) {
	tests := map[string]struct {
		port, scheme, liveness, readiness string
	}{
		"ebb-bus":         {port: "monitor", scheme: "", liveness: "/healthz?js-enabled-only=true", readiness: "/healthz?js-server-only=true"},
		"ebb-actuator":    {port: "health", scheme: "", liveness: "/healthz", readiness: "/readyz"},
		"ebb-metrics-api": {port: "https", scheme: "HTTPS", liveness: "/livez", readiness: "/readyz"},
		"ebb-poller":      {port: "health", scheme: "", liveness: "/healthz", readiness: "/readyz"},
		"ebb-decider":     {port: "health", scheme: "", liveness: "/healthz", readiness: "/readyz"},
	}
	objs := MustObjects(t, "ha")
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Container(objs, name)
			if err != nil {
				t.Fatal(err)
			}
			got := want
			got.port, _ = nested(c, "livenessProbe", "httpGet", "port").(string)
			got.scheme, _ = nested(c, "livenessProbe", "httpGet", "scheme").(string)
			got.liveness, _ = nested(c, "livenessProbe", "httpGet", "path").(string)
			got.readiness, _ = nested(c, "readinessProbe", "httpGet", "path").(string)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(want)); diff != "" {
				t.Errorf("probes (-want +got):\n%s", diff)
			}
			if rp, _ := nested(c, "readinessProbe", "httpGet", "port").(string); rp != want.port || !hasPort(c, rp) {
				t.Errorf("readiness probe port %q: want the container's port %q", rp, want.port)
			}
		})
	}
}

// TestBusUsers builds the bus's users directory the way the kubelet would from each overlay's
// manifests, loads it as `ebb bus` does, and checks that every service connects as a user the
// bus knows, with the password the bus has for it and the role of the service.
func TestBusUsers(t *testing.T) {
	for _, overlay := range Overlays() {
		t.Run(overlay, func(t *testing.T) {
			objs := MustObjects(t, overlay)
			busSet := Workload(objs, "ebb-bus")
			if busSet == nil {
				t.Fatal("no bus")
			}
			dir := t.TempDir()
			if err := writeUsers(objs, busSet, dir); err != nil {
				t.Fatal(err)
			}
			users, err := loadUsers(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"tap": busIdentity("tap", TestPassword("tap"))}
			got := map[string]string{"tap": busIdentity(users["tap"].Role, users["tap"].Password)}
			wantUsers := []string{"tap"}
			for _, w := range workloads(objs) {
				if w.GetName() == "ebb-bus" {
					continue
				}
				role, user, password, err := clientCredentials(objs, w)
				if err != nil {
					t.Fatalf("%s: %v", w.GetName(), err)
				}
				want[w.GetName()+" as "+user] = busIdentity(bus.Role(role), password)
				got[w.GetName()+" as "+user] = busIdentity(users[user].Role, users[user].Password)
				wantUsers = append(wantUsers, user)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("role and password the bus has for each service's user (-want +got):\n%s", diff)
			}
			slices.Sort(wantUsers)
			if diff := cmp.Diff(slices.Compact(wantUsers), slices.Sorted(maps.Keys(users))); diff != "" {
				t.Errorf("the bus's users: the services' and tap, no others (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClusterBus checks the ha bus: cluster mode once, a route to every node by its stable name,
// and a route password mounted where the flag points.
func TestClusterBus(t *testing.T) {
	objs := MustObjects(t, "ha")
	args := Args(t, "ha", "bus")
	var modes []string
	for _, a := range args {
		if strings.HasPrefix(a, "-mode=") {
			modes = append(modes, a)
		}
	}
	if diff := cmp.Diff([]string{"-mode=cluster"}, modes); diff != "" {
		t.Errorf("mode flags (-want +got):\n%s", diff)
	}
	routes, _ := flagValue(args, "routes")
	want := []string{
		"nats://ebb-bus-0.ebb-bus-nodes.ebb-system.svc:6222",
		"nats://ebb-bus-1.ebb-bus-nodes.ebb-system.svc:6222",
		"nats://ebb-bus-2.ebb-bus-nodes.ebb-system.svc:6222",
	}
	if diff := cmp.Diff(want, strings.Split(routes, ",")); diff != "" {
		t.Errorf("-routes (-want +got):\n%s", diff)
	}
	file, _ := flagValue(args, "route-password-file")
	password, err := mountedSecret(objs, Workload(objs, "ebb-bus"), file)
	if err != nil || password != TestPassword("route") {
		t.Errorf("route password at %s: %q, %v; want %q", file, password, err, TestPassword("route"))
	}
	if !hasPort(mustContainer(t, objs, "ebb-bus"), "cluster") || !servicePort(objs, "ebb-bus-nodes", 6222) {
		t.Error("the route port 6222 is not exposed on the nodes and their headless Service")
	}
}

// TestWebhookServers checks that in every overlay some actuator pods serve the webhook, that
// exactly those are behind its Service, and that they all keep their certificates in the same
// Secret: replicas share one CA through it, so any of them may answer the API server.
func TestWebhookServers(t *testing.T) {
	for _, overlay := range Overlays() {
		t.Run(overlay, func(t *testing.T) {
			objs := MustObjects(t, overlay)
			selector := serviceSelector(t, objs, "ebb-actuator-webhook")
			var serving, behindService int64
			secrets := map[string]bool{}
			for _, w := range workloads(objs) {
				c := mustContainer(t, objs, w.GetName())
				args, _, _ := unstructured.NestedStringSlice(c, "args")
				if args[0] != "actuator" {
					continue
				}
				n, _, _ := unstructured.NestedInt64(w.Object, "spec", "replicas")
				serves := !slices.Contains(args, "-webhook=false")
				if serves {
					serving += n
					ns, _ := flagValue(args, "leader-election-namespace") // "" is the default
					name, _ := flagValue(args, "webhook-secret")
					secrets[ns+"/"+name] = true
				}
				if selector.Matches(labels.Set(podLabels(w))) {
					behindService += n
					if !serves || !hasPort(c, "webhook") {
						t.Errorf("%s is behind the webhook's Service but serves no webhook", w.GetName())
					}
				} else if serves {
					t.Errorf("%s serves the webhook but is not behind its Service", w.GetName())
				}
			}
			if serving == 0 || serving != behindService {
				t.Errorf("%d actuator pods serve the webhook and %d are behind its Service; want the same, at least 1", serving, behindService)
			}
			if len(secrets) != 1 {
				t.Errorf("the webhook's replicas keep their certificates in %d Secrets (%v), want 1", len(secrets), secrets)
			}
		})
	}
}

// TestReferences checks that what the manifests name exists in the same overlay: the Secrets
// pods mount, the pods Services and PodDisruptionBudgets select, the Services the APIService and
// the webhook configuration call, and that no pod has two PodDisruptionBudgets.
func TestReferences(t *testing.T) {
	for _, overlay := range Overlays() {
		t.Run(overlay, func(t *testing.T) {
			objs := MustObjects(t, overlay)
			for _, w := range workloads(objs) {
				for _, s := range secretRefs(w) {
					if exists(objs, "Secret", w.GetNamespace(), s) != "exists" {
						t.Errorf("%s mounts Secret %s, which the overlay does not create", w.GetName(), s)
					}
				}
			}
			budgets := map[string][]string{}
			for _, o := range objs {
				var sel map[string]string
				switch o.GetKind() {
				case "Service":
					sel, _, _ = unstructured.NestedStringMap(o.Object, "spec", "selector")
				case "PodDisruptionBudget":
					sel, _, _ = unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels")
				default:
					continue
				}
				matched := 0
				for _, w := range workloads(objs) {
					if labels.SelectorFromSet(sel).Matches(labels.Set(podLabels(w))) {
						matched++
						if o.GetKind() == "PodDisruptionBudget" {
							budgets[w.GetName()] = append(budgets[w.GetName()], o.GetName())
						}
					}
				}
				if len(sel) == 0 || matched == 0 {
					t.Errorf("%s %s selects no pods (selector %v)", o.GetKind(), o.GetName(), sel)
				}
			}
			for _, w := range workloads(objs) {
				if len(budgets[w.GetName()]) != 1 {
					t.Errorf("%s has PodDisruptionBudgets %v; eviction needs exactly one", w.GetName(), budgets[w.GetName()])
				}
			}
			for _, ref := range serviceRefs(objs) {
				if exists(objs, "Service", ref.namespace, ref.name) != "exists" {
					t.Errorf("%s calls Service %s/%s, which the overlay does not create", ref.from, ref.namespace, ref.name)
				}
			}
		})
	}
}

// TestPerSourcePollers checks that each per-type poller polls its type only, as its own user.
func TestPerSourcePollers(t *testing.T) {
	for _, kind := range scaler.Builtin().Kinds() {
		t.Run(kind, func(t *testing.T) {
			args := Args(t, "per-source-pollers", "poller-"+kind)
			sources, _ := flagValue(args, "sources")
			user, _ := flagValue(args, "bus-user")
			if diff := cmp.Diff([]string{kind, "poller-" + kind}, []string{sources, user}); diff != "" {
				t.Errorf("-sources and -bus-user (-want +got):\n%s", diff)
			}
		})
	}
}

// TestArgs checks Args and ServiceAccount against a workload whose arguments are known, and
// their failure on an unknown service.
func TestArgs(t *testing.T) {
	got := Args(t, "default", "metrics-api")
	want := []string{"metrics-api", "-bus-url=nats://ebb-bus.ebb-system.svc:4222", "-bus-password-file=/etc/ebb/bus/password", "-port=6443",
		"-metrics-bind-address=:8080"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Args(default, metrics-api) (-want +got):\n%s", diff)
	}
	// $(POD_NAME) is expanded from the env's fieldRef, as the kubelet does.
	bus := Args(t, "default", "bus")
	if !slices.Contains(bus, "-name=ebb-bus-0") || slices.ContainsFunc(bus, func(a string) bool { return strings.Contains(a, "$(") }) {
		t.Errorf("Args(default, bus) = %q, want -name=ebb-bus-0 and nothing unexpanded", bus)
	}
	objs := MustObjects(t, "default")
	if sa, err := ServiceAccount(objs, "metrics-api"); sa != "ebb-metrics-api" || err != nil {
		t.Errorf("ServiceAccount(default, metrics-api) = %q, %v; want ebb-metrics-api", sa, err)
	}
	if _, err := Container(objs, "ebb-nothing"); err == nil {
		t.Error("Container of a workload that does not exist: no error")
	}
	if _, err := ServiceAccount(objs, "nothing"); err == nil {
		t.Error("ServiceAccount of a workload that does not exist: no error")
	}
}

// TestHAActuatorArgs checks that the ha overlay's actuators (two replicas of one Deployment,
// both serving the webhook) run the default overlay's actuator arguments: test/e2e runs its
// second actuator with those.
func TestHAActuatorArgs(t *testing.T) {
	if diff := cmp.Diff(Args(t, "default", "actuator"), Args(t, "ha", "actuator")); diff != "" {
		t.Errorf("ha's ebb-actuator args (-want default's +got):\n%s", diff)
	}
}

func workloads(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if IsWorkload(o) {
			out = append(out, o)
		}
	}
	return out
}

func mustContainer(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	c, err := Container(objs, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nested reads a field of a decoded object, nil when it is missing.
func nested(m map[string]any, fields ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(m, fields...)
	return v
}

func resources(c map[string]any) string {
	for _, kind := range []string{"requests", "limits"} {
		for _, r := range []string{"cpu", "memory"} {
			if nested(c, "resources", kind, r) == nil {
				return fmt.Sprintf("no %s of %s", kind, r)
			}
		}
	}
	return "requests and limits of cpu and memory"
}

func exists(objs []*unstructured.Unstructured, kind, namespace string, name any) string {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return "exists"
		}
	}
	return fmt.Sprintf("no %s %s/%v", kind, namespace, name)
}

func hasPort(c map[string]any, name string) bool {
	ports, _, _ := unstructured.NestedSlice(c, "ports")
	for _, p := range ports {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			return true
		}
	}
	return false
}

func servicePort(objs []*unstructured.Unstructured, service string, port int64) bool {
	for _, o := range objs {
		if o.GetKind() != "Service" || o.GetName() != service {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
		for _, p := range ports {
			if m, ok := p.(map[string]any); ok && m["port"] == port {
				return true
			}
		}
	}
	return false
}

func serviceSelector(t *testing.T, objs []*unstructured.Unstructured, name string) labels.Selector {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Service" && o.GetName() == name {
			sel, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector")
			return labels.SelectorFromSet(sel)
		}
	}
	t.Fatalf("no Service %s", name)
	return nil
}

func podLabels(w *unstructured.Unstructured) map[string]string {
	l, _, _ := unstructured.NestedStringMap(w.Object, "spec", "template", "metadata", "labels")
	return l
}

// flagValue returns the value of -name=value in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// secretRefs lists the Secrets a workload's pods mount, directly or projected.
func secretRefs(w *unstructured.Unstructured) []string {
	var names []string
	vols, _, _ := unstructured.NestedSlice(w.Object, "spec", "template", "spec", "volumes")
	for _, v := range vols {
		m, _ := v.(map[string]any)
		if s, ok := nested(m, "secret", "secretName").(string); ok {
			names = append(names, s)
		}
		sources, _, _ := unstructured.NestedSlice(m, "projected", "sources")
		for _, src := range sources {
			if s, ok := nested(src.(map[string]any), "secret", "name").(string); ok {
				names = append(names, s)
			}
		}
	}
	return names
}

type serviceRef struct{ from, namespace, name string }

// serviceRefs lists the Services that APIServices and webhook configurations call.
func serviceRefs(objs []*unstructured.Unstructured) []serviceRef {
	var refs []serviceRef
	for _, o := range objs {
		switch o.GetKind() {
		case "APIService":
			ns, _, _ := unstructured.NestedString(o.Object, "spec", "service", "namespace")
			name, _, _ := unstructured.NestedString(o.Object, "spec", "service", "name")
			refs = append(refs, serviceRef{o.GetName(), ns, name})
		case "ValidatingWebhookConfiguration":
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			for _, h := range hooks {
				m, _ := h.(map[string]any)
				ns, _ := nested(m, "clientConfig", "service", "namespace").(string)
				name, _ := nested(m, "clientConfig", "service", "name").(string)
				refs = append(refs, serviceRef{o.GetName() + "/" + fmt.Sprint(m["name"]), ns, name})
			}
		}
	}
	return refs
}

// secretData returns key of Secret name, decoded.
func secretData(objs []*unstructured.Unstructured, namespace, name, key string) (string, error) {
	for _, o := range objs {
		if o.GetKind() != "Secret" || o.GetNamespace() != namespace || o.GetName() != name {
			continue
		}
		enc, ok, _ := unstructured.NestedString(o.Object, "data", key)
		if !ok {
			return "", fmt.Errorf("secret %s has no key %s", name, key)
		}
		b, err := base64.StdEncoding.DecodeString(enc)
		return string(b), err
	}
	return "", fmt.Errorf("no Secret %s/%s", namespace, name)
}

// mountedSecret returns the content of file in w's container: a key of a Secret volume (no
// items) mounted at the file's directory.
func mountedSecret(objs []*unstructured.Unstructured, w *unstructured.Unstructured, file string) (string, error) {
	c, err := Container(objs, w.GetName())
	if err != nil {
		return "", err
	}
	dir, key := path.Split(file)
	mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
	for _, m := range mounts {
		mm, _ := m.(map[string]any)
		if mm["mountPath"] != strings.TrimSuffix(dir, "/") {
			continue
		}
		vols, _, _ := unstructured.NestedSlice(w.Object, "spec", "template", "spec", "volumes")
		for _, v := range vols {
			vm, _ := v.(map[string]any)
			if vm["name"] == mm["name"] {
				secret, ok := nested(vm, "secret", "secretName").(string)
				if !ok || nested(vm, "secret", "items") != nil {
					return "", fmt.Errorf("volume %v is not a whole Secret", vm["name"])
				}
				return secretData(objs, w.GetNamespace(), secret, key)
			}
		}
	}
	return "", fmt.Errorf("nothing mounted at %s", dir)
}

// clientCredentials returns a service's bus role (its subcommand), the user it connects as
// (-bus-user, else its role) and the password in its -bus-password-file.
func clientCredentials(objs []*unstructured.Unstructured, w *unstructured.Unstructured) (role, user, password string, err error) {
	c, err := Container(objs, w.GetName())
	if err != nil {
		return "", "", "", err
	}
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	role = args[0]
	user, ok := flagValue(args, "bus-user")
	if !ok {
		user = role
	}
	file, ok := flagValue(args, "bus-password-file")
	if !ok {
		return "", "", "", fmt.Errorf("no -bus-password-file")
	}
	password, err = mountedSecret(objs, w, file)
	return role, user, password, err
}

// busIdentity is what a bus user may do and how it proves who it is, for comparison.
func busIdentity(role bus.Role, password string) string {
	return fmt.Sprintf("role %s, password %q", role, password)
}

// writeUsers writes the bus's -users-dir as its projected volume presents it.
func writeUsers(objs []*unstructured.Unstructured, busSet *unstructured.Unstructured, dir string) error {
	c, err := Container(objs, busSet.GetName())
	if err != nil {
		return err
	}
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	usersDir, _ := flagValue(args, "users-dir")
	mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
	vols, _, _ := unstructured.NestedSlice(busSet.Object, "spec", "template", "spec", "volumes")
	for _, m := range mounts {
		mm, _ := m.(map[string]any)
		if mm["mountPath"] != usersDir {
			continue
		}
		for _, v := range vols {
			vm, _ := v.(map[string]any)
			if vm["name"] != mm["name"] {
				continue
			}
			sources, _, _ := unstructured.NestedSlice(vm, "projected", "sources")
			for _, src := range sources {
				secret, _ := nested(src.(map[string]any), "secret").(map[string]any)
				items, _, _ := unstructured.NestedSlice(secret, "items")
				for _, it := range items {
					im, _ := it.(map[string]any)
					data, err := secretData(objs, busSet.GetNamespace(), fmt.Sprint(secret["name"]), fmt.Sprint(im["key"]))
					if err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(im["path"])), []byte(data), 0o600); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	return fmt.Errorf("no projected volume mounted at -users-dir %q", usersDir)
}

// loadUsers loads dir as `ebb bus -users-dir` does, by name.
func loadUsers(dir string) (map[string]bus.User, error) {
	users, err := bus.LoadUsers(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]bus.User{}
	for _, u := range users {
		out[u.Name] = u
	}
	return out, nil
}

// TestImageUser checks that the pods run as the numeric user the image declares, so the
// kubelet's runAsNonRoot check and the image agree.
func TestImageUser(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(Dir(t)), "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var user string
	for _, line := range strings.Split(string(data), "\n") {
		if u, ok := strings.CutPrefix(line, "USER "); ok {
			user = strings.TrimSpace(u) // the last USER is the final stage's
		}
	}
	for _, overlay := range Overlays() {
		for _, w := range workloads(MustObjects(t, overlay)) {
			uid := nested(w.Object, "spec", "template", "spec", "securityContext", "runAsUser")
			gid := nested(w.Object, "spec", "template", "spec", "securityContext", "runAsGroup")
			if got := fmt.Sprintf("%v:%v", uid, gid); got != user {
				t.Errorf("%s/%s runs as %s, the image as %q", overlay, w.GetName(), got, user)
			}
		}
	}
}
