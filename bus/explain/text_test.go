package explain_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/bus/explain"
	"ebb.dev/bus/tap"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

func TestText(t *testing.T) {
	so := scaledObject(fallback(3, 6), func(so *v1alpha1.ScaledObject) {
		so.Status.LastActiveTime = &metav1.Time{Time: t0}
		so.Status.HPAName = "keda-hpa-consumer"
		so.Status.Conditions = v1alpha1.Conditions{{Type: "Ready", Status: "True"}, {Type: "Active", Status: "False"}, {Type: "Fallback", Status: "False"}, {Type: "Paused", Status: "False"}}
	})
	withStatus := func(e explain.Evidence) explain.Evidence {
		e.Actions = append(e.Actions, msgtest.StatusAction())
		return e
	}
	inFallback := edit(msgtest.FailingDecision(), func(d *msg.Decision) {
		d.Reason, d.Active, d.DesiredReplicas = msg.ReasonFallback, true, 6
		d.Metrics = []msg.MetricValue{{Name: "s0-rabbitmq-orders", Value: 30, Fallback: true, Failures: 4}}
	})
	tests := map[string]struct {
		e    explain.Evidence
		want string
	}{
		"in cooldown, with the cluster": {
			e: withStatus(evidence(msgtest.CooldownDecision(), so)),
			want: `orders/consumer (ScaledObject, generation 2) at 14:03:00
state     inactive, 1 replica (cooldown)
status    Ready True, Active False, Fallback False, Paused False; last active 14:02:07; HPA keda-hpa-consumer
spec      replicas 0–30, cooldown 300s, polling 30s, fallback 6 replicas after 3 failures (static)
triggers
  0 rabbitmq s0-rabbitmq-orders=0/5 inactive, activation 2, read 14:02:07 (53s ago) by poller-0
decision  1→1 cooldown (s0-rabbitmq-orders=0/5), decided 14:02:08 (52s ago) by decider-0
actions
  14:02:09 scale 1→20 ok (decision hpa of 14:02:08)
  14:02:09 status ok
next      scales to 0 at 14:07:07 unless a reading of s0-rabbitmq-orders exceeds 2
`,
		},
		"in fallback, without the cluster": {
			e: evidence(inFallback, nil),
			want: `orders/consumer (ScaledObject, generation 2) at 14:03:00
state     active, 3 replicas, going to 6 (fallback)
triggers
  0 rabbitmq s0-rabbitmq-orders error: dial tcp 127.0.0.1:5672: connect: connection refused, 4 failed polls in a row, in fallback, read 14:02:07 (53s ago) by poller-0
decision  3→6 fallback (s0-rabbitmq-orders failing), decided 14:02:08 (52s ago) by decider-0
          serves the HPA s0-rabbitmq-orders=30 (fallback)
actions
  14:02:09 scale 1→20 ok (decision hpa of 14:02:08)
next      the HPA decides between max(minReplicaCount, 1) and maxReplicaCount; from the values served now it goes to 6
          scales to 0 (or idleReplicaCount; never below minReplicaCount) a cooldownPeriod after the last active reading once every reading is at or below its activation threshold
          s0-rabbitmq-orders is served its fallback value until it reads again
unknown   spec and status: the cluster was not read (give -kubeconfig): min and max replicas, cooldown, idle replicas, fallback, pause annotations and activation thresholds are not known
`,
		},
		"a ScaledJob": {
			e: explain.Evidence{Object: msgtest.JobDecision().Object, Readings: []msg.Reading{msgtest.Reading()}, Decision: new(msgtest.JobDecision()), Cluster: explain.Cluster{Read: true, ScaledJob: &v1alpha1.ScaledJob{
				ObjectMeta: metav1.ObjectMeta{Namespace: "orders", Name: "consumer", Generation: 2},
				Spec:       v1alpha1.ScaledJobSpec{MaxReplicaCount: count(10), Triggers: scaledObject().Spec.Triggers},
			}}},
			want: `orders/consumer (ScaledJob, generation 2) at 14:03:00
state     active, 2 Jobs running, 1 pending; creating 3 (jobs)
status    no conditions yet
spec      Jobs 0–10, polling 30s
triggers
  0 rabbitmq s0-rabbitmq-orders=100/5 active, activation 2, read 14:02:07 (53s ago) by poller-0
decision  create 3 jobs, 2 running, 1 pending jobs (s0-rabbitmq-orders=100/5), decided 14:02:08 (52s ago) by decider-0
actions   none
next      decides again at 14:02:38 and creates Jobs for what the triggers read then, up to maxReplicaCount (10) Jobs running
`,
		},
		"nothing on the bus": {
			e: explain.Evidence{Object: msgtest.Object(), Cluster: explain.Cluster{Read: true, ScaledObject: scaledObject()}},
			want: `orders/consumer (ScaledObject, generation 2) at 14:03:00
state     unknown: no decision on the bus
status    no conditions yet
spec      replicas 0–30, cooldown 300s, polling 30s, no fallback
triggers
  0 rabbitmq s0-rabbitmq-orders: no reading yet
actions   none
next      the first decision comes once every trigger has a reading, or a polling interval after a decider first sees the object
warning   nothing on the bus for this object: no reading and no decision; is a poller running for it, and is the name and kind right?
          trigger 0 (rabbitmq): no reading on the bus; is a poller running for it?
`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := explain.Write(&b, explain.Explain(tc.e, t0.Add(53*time.Second)), tap.Printer{}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("Write (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteTimes(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	r := explain.Explain(evidence(msgtest.CooldownDecision(), nil), t0.Add(time.Minute))
	tests := map[string]struct {
		r       explain.Report
		p       tap.Printer
		wantHas string
	}{
		"local time": {r: r, p: tap.Printer{Location: berlin}, wantHas: "scales to 0 (or idleReplicaCount) at 15:07:07"},
		"the date once the report reaches back before today": {r: explain.Explain(evidence(msgtest.CooldownDecision(), nil), t0.Add(24*time.Hour)), wantHas: "decided 2026-11-28 14:02:08"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := explain.Write(&b, tc.r, tc.p); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.wantHas) {
				t.Errorf("Write =\n%s\nwant it to contain %q", b.String(), tc.wantHas)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	want := explain.Explain(evidence(msgtest.FailingDecision(), scaledObject(fallback(3, 6))), t0.Add(time.Minute))
	var b bytes.Buffer
	if err := explain.Write(&b, want, tap.Printer{Output: tap.JSON}); err != nil {
		t.Fatal(err)
	}
	var got explain.Report
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON report: %v\n%s", err, b.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report through JSON (-want +got):\n%s", diff)
	}
	for _, key := range []string{`"next"`, `"do"`, `"failures": 2`, `"cooldownPeriod": 300`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b.String())
		}
	}
}
