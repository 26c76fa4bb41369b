package poller

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/scaler"
)

// TestBuiltinScalerWithRotatedCredentials polls through the real rabbitmq scaler (http
// protocol) against a loopback server that answers like the management API and checks basic
// auth: the credentials come from a Secret, are rotated, and never reach the bus.
func TestBuiltinScalerWithRotatedCredentials(t *testing.T) {
	const user, oldPW, newPW = "app", "before-rotation-pw", "after-rotation-pw"
	mgmt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != newPW {
			http.Error(w, `{"error":"not_authorised"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.EscapedPath() != "/api/queues/%2F/orders" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": 42, "messages_ready": 40})
	}))
	defer mgmt.Close()

	e := start(t)
	capture := e.bus.Capture(t)
	ns := e.namespace(t, "builtin")
	tr := v1alpha1.ScaleTriggers{Type: "rabbitmq", Metadata: map[string]string{"host": mgmt.URL, "queueName": "orders", "value": "10"},
		AuthenticationRef: &v1alpha1.AuthenticationRef{Name: "mq"}}
	e.create(t,
		secret(ns, "mq", map[string]string{"username": user, "password": oldPW}),
		triggerAuth(ns, "mq", secretAuth("mq")),
		scaledObject(ns, "app", 1, tr),
	)
	rec := e.recorder(t)
	builtin := poller.Scalers(scaler.Builtin(), scaler.Deps{Pool: scaler.NewPool()})
	e.runPoller(t, poller.Config{ID: "p0", Sources: []string{"rabbitmq"}}, builtin)
	k := readingKey(ns, "app", 0)
	rec.Wait(t, "a refused reading", 15*time.Second, func(all map[string][]msg.Reading) bool { return len(all[k]) > 0 })
	if r, _ := rec.Last(k); !strings.Contains(r.Error, "401") || r.Value != 0 {
		t.Errorf("with the old password: value %v, error %q; want a 401 error", r.Value, r.Error)
	}
	if err := e.client.Update(t.Context(), secret(ns, "mq", map[string]string{"username": user, "password": newPW})); err != nil {
		t.Fatal(err)
	}
	rec.Wait(t, "42 messages read with the rotated password", 5*time.Second, func(map[string][]msg.Reading) bool {
		r, _ := rec.Last(k)
		return r.Error == "" && r.Value == 42 && r.Active && r.Target.Value == 10 && r.Trigger.MetricName == "s0-rabbitmq-orders"
	})
	capture.AssertNever(t, []byte(oldPW))
	capture.AssertNever(t, []byte(newPW))
}
