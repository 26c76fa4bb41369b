package jsonschema_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/jsonschema"
	"ebb.dev/schemas/msg/msgtest"
)

func TestEveryMessageTypeHasASchema(t *testing.T) {
	v := newValidator(t)
	got := v.Schemas()
	sort.Strings(got)
	want := []string{msg.ActionSchema, msg.DecisionSchema, msg.ReadingSchema}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
}

func TestRealMessagesValidate(t *testing.T) {
	v := newValidator(t)
	for name, m := range msgtest.All() {
		t.Run(name, func(t *testing.T) {
			data, err := msg.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(data); err != nil {
				t.Errorf("Validate(%s): %v", data, err)
			}
		})
	}
}

func TestSchemaRejects(t *testing.T) {
	v := newValidator(t)
	tests := map[string]struct {
		m       msg.Message
		edit    func(map[string]any)
		wantErr string
	}{
		"a missing field":      {m: msgtest.Reading(), edit: func(o map[string]any) { delete(o, "poller") }, wantErr: "poller"},
		"an unknown field":     {m: msgtest.Reading(), edit: func(o map[string]any) { o["password"] = "hunter2" }, wantErr: "password"},
		"an unknown reason":    {m: msgtest.Decision(), edit: func(o map[string]any) { o["reason"] = "because" }, wantErr: "reason"},
		"an unknown operation": {m: msgtest.Action(), edit: func(o map[string]any) { o["operation"] = "delete" }, wantErr: "operation"},
		"a bad timestamp":      {m: msgtest.Action(), edit: func(o map[string]any) { o["at"] = "yesterday" }, wantErr: "date-time"},
		"an empty namespace": {m: msgtest.Decision(), edit: func(o map[string]any) {
			o["object"].(map[string]any)["namespace"] = ""
		}, wantErr: "namespace"},
		"an unknown schema": {m: msgtest.Reading(), edit: func(o map[string]any) { o["schema"] = "ebb.dev/reading/v9" }, wantErr: "no schema file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := msg.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			var o map[string]any
			if err := json.Unmarshal(data, &o); err != nil {
				t.Fatal(err)
			}
			tc.edit(o)
			data, _ = json.Marshal(o)
			err = v.Validate(data)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate error = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

// The enums in the schema files are struct tags; they must list exactly the Go constants.
func TestSchemaEnumsMatchConstants(t *testing.T) {
	tests := map[string]struct {
		file, def, prop string
		want            []string
	}{
		"decision reasons":  {file: "decision.v1.json", def: "Decision", prop: "reason", want: strs(msg.Reasons())},
		"action reasons":    {file: "action.v1.json", def: "DecisionRef", prop: "reason", want: strs(msg.Reasons())},
		"action operations": {file: "action.v1.json", def: "Action", prop: "operation", want: strs(msg.Operations())},
		"action results":    {file: "action.v1.json", def: "Action", prop: "result", want: []string{string(msg.ResultOK), string(msg.ResultFailed)}},
		"object kinds":      {file: "reading.v1.json", def: "ObjectRef", prop: "kind", want: []string{string(msg.ScaledObject), string(msg.ScaledJob)}},
		"metric types":      {file: "reading.v1.json", def: "Target", prop: "type", want: []string{string(msg.AverageValue), string(msg.Value), string(msg.Utilization)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(jsonschema.FS(), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Defs map[string]struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"$defs"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			got := doc.Defs[tc.def].Properties[tc.prop].Enum
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s %s.%s enum (-constants +schema):\n%s", tc.file, tc.def, tc.prop, diff)
			}
		})
	}
}

func newValidator(t *testing.T) *jsonschema.Validator {
	t.Helper()
	v, err := jsonschema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return slices.Clip(out)
}
