package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/trigger"
)

// docPath is docs/scalers.md from this package's directory.
const docPath = "../../../../docs/scalers.md"

func TestDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(doc, gen)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(doc)); diff != "" {
		t.Errorf("docs/scalers.md is stale; run go generate ./schemas/trigger (-want +got):\n%s", diff)
	}
}

func TestGenerate(t *testing.T) {
	gen, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range trigger.Builtin().Kinds() {
		if !strings.Contains(gen, "\n### "+kind+"\n") {
			t.Errorf("no section for %s", kind)
		}
	}
	for _, want := range []string{
		"| `host` | **required** | metadata, auth, `hostFromEnv` | secret: never logged or published; amqp(s):// or http(s)://, may hold credentials |",
		"| `value` | `20` | metadata | also `queueLength`; the metric's target |",
		"| [`metrics-api`](#metrics-api) | `s<i>-metric-api-<detail>`, detail: the value location |",
		"| [`prometheus`](#prometheus) | `s<i>-prometheus` |",
		"&lt;timezone&gt;-&lt;start&gt;-&lt;end&gt; with blanks dropped and '\\*' as 'x'",
	} {
		if !strings.Contains(gen, want) {
			t.Errorf("generated reference lacks %q", want)
		}
	}
	if _, err := Generate(t.TempDir()); err == nil {
		t.Error("Generate from a directory without package trigger succeeded")
	}
}

func TestReplace(t *testing.T) {
	tests := map[string]struct {
		doc     string
		want    string
		wantErr string
	}{
		"keeps the prose": {doc: "intro\n" + Begin + "\nold\n" + End + "\noutro\n", want: "intro\n" + Begin + "\n\nnew\n\n" + End + "\noutro\n"},
		"no begin marker": {doc: "intro\n" + End, wantErr: "no begin marker"},
		"no end marker":   {doc: Begin + "\nold", wantErr: "no end marker"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Replace([]byte(tc.doc), "new\n")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Replace error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Replace (-want +got):\n%s", diff)
			}
		})
	}
}
