package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunSimulate(t *testing.T) {
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"a sample object and timeline print the table": {
			args:     []string{"simulate", "-f", "../../examples/simulate/burst.yaml", "-t", "../../examples/simulate/burst.jsonl"},
			wantCode: 0, wantStdout: "peak 20 replicas at 20s, 0s after the first active poll"},
		"json output prints one event per line": {
			args:     []string{"simulate", "-o", "json", "-f", "../../examples/simulate/jobs.yaml", "-t", "../../examples/simulate/jobs.jsonl"},
			wantCode: 0, wantStdout: `{"at":"0s","kind":"poll"`},
		"a missing timeline fails naming the flag": {
			args:     []string{"simulate", "-f", "../../examples/simulate/burst.yaml"},
			wantCode: 1, wantStderr: "-t: the timeline file is required"},
		"stray arguments fail": {
			args:     []string{"simulate", "-f", "a", "-t", "b", "extra"},
			wantCode: 1, wantStderr: `unexpected arguments ["extra"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
