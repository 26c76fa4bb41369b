package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/msg/msgtest"
)

func TestTap(t *testing.T) {
	b := bustest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := b.Connect(t, bus.RoleDecider).Publish(ctx, msgtest.Decision()); err != nil {
		t.Fatal(err)
	}
	cc := b.ClientConfig(bus.RoleTap)
	passwordFile := filepath.Join(t.TempDir(), "tap.password")
	if err := os.WriteFile(passwordFile, []byte(cc.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	busFlags := []string{"-bus-url", cc.URL, "-bus-password-file", passwordFile}
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"replays the decision":      {args: []string{"-since", "1h", "-follow=false", "-utc"}, wantStdout: "14:02:08 orders/consumer decision 1→20 hpa (s0-rabbitmq-orders=100/5)\n"},
		"replays it as json":        {args: []string{"-since", "1h", "-follow=false", "-o", "json"}, wantStdout: `{"schema":"ebb.dev/decision/v1",`},
		"filters it out by kind":    {args: []string{"-since", "1h", "-follow=false", "-kind", "sj"}, wantStdout: ""},
		"rejects a bad since":       {args: []string{"-since", "yesterday"}, wantCode: 1, wantStderr: `since "yesterday"`},
		"rejects a bad kind":        {args: []string{"-kind", "Deployment"}, wantCode: 1, wantStderr: `kind "Deployment"`},
		"rejects replayed readings": {args: []string{"-since", "1h", "-follow=false", "-type", "reading"}, wantCode: 1, wantStderr: "readings can only be followed live"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"tap"}, busFlags...), tc.args...)
			if code := run(ctx, args, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if tc.wantStdout == "" && stdout.Len() > 0 || !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
