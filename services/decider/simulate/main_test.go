package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const examples = "../../../examples/simulate"

// TestMainOnExamples runs every sample under examples/simulate end to end, as `ebb simulate`
// does, and compares the table with testdata/<name>.golden.
func TestMainOnExamples(t *testing.T) {
	for _, name := range []string{"burst", "behavior", "modifiers", "jobs"} {
		t.Run(name, func(t *testing.T) {
			plot := filepath.Join(t.TempDir(), name+".svg")
			cfg := Config{Object: filepath.Join(examples, name+".yaml"), Timeline: filepath.Join(examples, name+".jsonl"), Plot: plot}
			var out bytes.Buffer
			if err := Main(context.Background(), cfg, &out); err != nil {
				t.Fatalf("Main: %v", err)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
			svg, err := os.ReadFile(plot)
			if err != nil {
				t.Fatalf("read plot: %v", err)
			}
			if !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.HasSuffix(svg, []byte("</svg>\n")) || !bytes.Contains(svg, []byte("<polyline")) {
				t.Errorf("plot is not an SVG with lines: %.200s", svg)
			}
		})
	}
}

func TestMainWritesJSONL(t *testing.T) {
	cfg := Config{Object: filepath.Join(examples, "burst.yaml"), Timeline: filepath.Join(examples, "burst.jsonl"), Output: OutputJSON}
	var out bytes.Buffer
	if err := Main(context.Background(), cfg, &out); err != nil {
		t.Fatalf("Main: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var first, last Event
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("first line: %v", err)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last line: %v", err)
	}
	if first.Kind != KindPoll || first.At != 0 || first.Decision == nil || first.Decision.Reason != "deactivate" {
		t.Errorf("first event = %+v, want the poll at 0s deciding deactivate", first)
	}
	if last.Replicas != 0 {
		t.Errorf("last event replicas = %d, want 0 once the cooldown has passed", last.Replicas)
	}
}

func TestMainRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	files := 0
	write := func(name, content string) string { // every case gets its own file
		files++
		p := filepath.Join(dir, strconv.Itoa(files)+"-"+name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	burst, burstSteps := filepath.Join(examples, "burst.yaml"), filepath.Join(examples, "burst.jsonl")
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"no object file": {cfg: Config{Timeline: burstSteps}, want: "-f"},
		"a PNG plot":     {cfg: Config{Object: burst, Timeline: burstSteps, Plot: "out.png"}, want: "only .svg"},
		"an unknown output": {
			cfg: Config{Object: burst, Timeline: burstSteps, Output: "yaml"}, want: "-o"},
		"a Deployment": {
			cfg: Config{Object: write("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n"), Timeline: burstSteps}, want: `kind "Deployment"`},
		"a misspelt field": {
			cfg: Config{Object: write("so.yaml", "kind: ScaledObject\nspec:\n  minReplicas: 1\n"), Timeline: burstSteps}, want: "minReplicas"},
		"trigger metadata the parser rejects": {
			cfg:  Config{Object: write("so.yaml", "kind: ScaledObject\nspec:\n  triggers:\n  - type: rabbitmq\n    metadata: {value: \"x\", hostFromEnv: H}\n"), Timeline: burstSteps},
			want: "spec.triggers[0].metadata"},
		"a timeline naming an unknown trigger": {
			cfg: Config{Object: burst, Timeline: write("t.jsonl", `{"at":"0s","values":{"payments":3}}`)}, want: `line 1: values: no polled trigger "payments"`},
		"a timeline going back in time": {
			cfg: Config{Object: burst, Timeline: write("t.jsonl", "{\"at\":\"1m\"}\n{\"at\":\"30s\"}\n")}, want: "line 2: at: 30s goes back in time"},
		"a timeline with an unknown field": {
			cfg: Config{Object: burst, Timeline: write("t.jsonl", `{"at":"1m","value":{"orders":1}}`)}, want: `line 1: json: unknown field "value"`},
		"a timeline offset that is no duration": {
			cfg: Config{Object: burst, Timeline: write("t.jsonl", `{"at":"soon"}`)}, want: `line 1: offset "soon"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Main(context.Background(), tc.cfg, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Main error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
