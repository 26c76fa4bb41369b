package msg_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

func TestMarshalDecodeRoundTrip(t *testing.T) {
	tests := map[string]struct {
		in   msg.Message
		want msg.Message
	}{
		"decision without inputs": {in: noInputs(nil), want: withSchema(noInputs([]msg.Reading{}))},
	}
	for name, m := range msgtest.All() {
		tests[name] = struct {
			in   msg.Message
			want msg.Message
		}{in: m, want: withSchema(m)}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := msg.Marshal(tc.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got, err := msg.Decode(data)
			if err != nil {
				t.Fatalf("Decode(%s): %v", data, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode(Marshal(m)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalLeavesCallerInputsAlone(t *testing.T) {
	d := msgtest.Decision()
	if _, err := msg.Marshal(d); err != nil {
		t.Fatal(err)
	}
	if d.Inputs[0].Schema != "" {
		t.Errorf("Marshal set the schema of the caller's input to %q", d.Inputs[0].Schema)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := map[string]struct {
		in        msg.Message
		wantField []string
	}{
		"reading without namespace": {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.Object.Namespace = "" }), wantField: []string{"object.namespace"}},
		"reading with unknown kind": {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.Object.Kind = "Deployment" }), wantField: []string{"object.kind"}},
		"reading without metric name and poller": {
			in:        edit(msgtest.Reading(), func(r *msg.Reading) { r.Trigger.MetricName, r.Poller = "", "" }),
			wantField: []string{"trigger.metricName", "poller"},
		},
		"reading with negative index":     {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.Trigger.Index = -1 }), wantField: []string{"trigger.index"}},
		"reading with unknown target":     {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.Target.Type = "Percent" }), wantField: []string{"target.type"}},
		"reading without observedAt":      {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.ObservedAt = time.Time{} }), wantField: []string{"observedAt"}},
		"reading with the wrong schema":   {in: edit(msgtest.Reading(), func(r *msg.Reading) { r.Schema = msg.ActionSchema }), wantField: []string{"schema"}},
		"decision with unknown reason":    {in: edit(msgtest.Decision(), func(d *msg.Decision) { d.Reason = "because" }), wantField: []string{"reason"}},
		"decision with a bad input":       {in: edit(msgtest.Decision(), func(d *msg.Decision) { d.Inputs[0].Trigger.Type = "" }), wantField: []string{"inputs[0].trigger.type"}},
		"scaledjob decision without jobs": {in: edit(msgtest.JobDecision(), func(d *msg.Decision) { d.Jobs = nil }), wantField: []string{"jobs"}},
		"scaledobject decision with jobs": {in: edit(msgtest.Decision(), func(d *msg.Decision) { d.Jobs = &msg.Jobs{} }), wantField: []string{"jobs"}},
		"decision with negative replicas": {in: edit(msgtest.Decision(), func(d *msg.Decision) { d.DesiredReplicas = -1 }), wantField: []string{"desiredReplicas"}},
		"action with unknown operation":   {in: edit(msgtest.Action(), func(a *msg.Action) { a.Operation = "delete" }), wantField: []string{"operation"}},
		"failed action without error":     {in: edit(msgtest.FailedAction(), func(a *msg.Action) { a.Error = "" }), wantField: []string{"error"}},
		"ok action with error":            {in: edit(msgtest.Action(), func(a *msg.Action) { a.Error = "boom" }), wantField: []string{"error"}},
		"action with unknown result":      {in: edit(msgtest.Action(), func(a *msg.Action) { a.Result = "maybe" }), wantField: []string{"result"}},
		"action with a bad decision":      {in: edit(msgtest.Action(), func(a *msg.Action) { a.Decision.Decider = "" }), wantField: []string{"decision.decider"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.in.Validate()
			if err == nil {
				t.Fatal("Validate succeeded, want an error")
			}
			for _, f := range tc.wantField {
				if !strings.Contains(err.Error(), f+":") {
					t.Errorf("error %q does not name field %q", err, f)
				}
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := msg.Marshal(msgtest.Reading())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		data    string
		wantErr string
	}{
		"not json":           {data: "{", wantErr: "decode message"},
		"no schema":          {data: `{"value":1}`, wantErr: `unknown schema ""`},
		"a future version":   {data: strings.Replace(string(good), "reading/v1", "reading/v2", 1), wantErr: "unknown schema"},
		"a wrong field type": {data: strings.Replace(string(good), `"value":100`, `"value":"100"`, 1), wantErr: "decode ebb.dev/reading/v1"},
		"an invalid reading": {data: strings.Replace(string(good), `"poller":"poller-0"`, `"poller":""`, 1), wantErr: "poller: must not be empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := msg.Decode([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Decode error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeAs(t *testing.T) {
	data, err := msg.Marshal(msgtest.Decision())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msg.DecodeAs[msg.Decision](data); err != nil {
		t.Errorf("DecodeAs[Decision](decision): %v", err)
	}
	if _, err := msg.DecodeAs[msg.Reading](data); err == nil || !strings.Contains(err.Error(), "want ebb.dev/reading/v1") {
		t.Errorf("DecodeAs[Reading](decision) error = %v, want a schema mismatch", err)
	}
}

func edit[M any](m M, f func(*M)) M {
	f(&m)
	return m
}

func withSchema(m msg.Message) msg.Message {
	switch v := m.(type) {
	case msg.Reading:
		v.Schema = msg.ReadingSchema
		return v
	case msg.Decision:
		v.Schema = msg.DecisionSchema
		for i := range v.Inputs {
			v.Inputs[i].Schema = msg.ReadingSchema
		}
		return v
	case msg.Action:
		v.Schema = msg.ActionSchema
		return v
	}
	return m
}

func noInputs(in []msg.Reading) msg.Decision {
	d := msgtest.Decision()
	d.Inputs = in
	return d
}
