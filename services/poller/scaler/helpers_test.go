package scaler

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"ebb.dev/schemas/trigger"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var triggerPath = field.NewPath("spec", "triggers").Index(0)

// parse reads metadata and auth parameters with the same parser the poller and webhook use.
func parse(t testing.TB, kind string, meta, auth map[string]string) trigger.Metadata {
	t.Helper()
	m, errs := trigger.Builtin().Parse(kind, trigger.Params{Metadata: meta, Auth: auth}, triggerPath)
	if len(errs) > 0 {
		t.Fatalf("parse %s: %v", kind, errs.ToAggregate())
	}
	return m
}

// build parses the trigger and builds its scaler from Builtin; the scaler is closed when the
// test ends.
func build(t testing.TB, kind string, meta, auth map[string]string, d Deps) Scaler {
	t.Helper()
	if d.Log == nil {
		d.Log = testLogger(t)
	}
	s, err := Builtin().Build(kind, parse(t, kind, meta, auth), d)
	if err != nil {
		t.Fatalf("build %s: %v", kind, err)
	}
	if c, ok := s.(io.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("close %s scaler: %v", kind, err)
			}
		})
	}
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// step changes the source, then expects a reading.
type step struct {
	name   string
	change func()
	want   float64
}

// runSteps applies each step in order and checks s reads the step's value after it.
func runSteps(t testing.TB, s Scaler, steps []step) {
	t.Helper()
	for _, st := range steps {
		st.change()
		got, err := readOnce(t, s)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: Read = %v, want %v", st.name, got, st.want)
		}
	}
}

// readOnce reads s with a 5 s deadline.
func readOnce(t testing.TB, s Scaler) (float64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Read(ctx)
}
