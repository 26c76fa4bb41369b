package scaler

import (
	"context"
	"io"
	"log/slog"
	"strings"
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

// readError reads s once and returns the error it must fail with; a value is a failure (a
// source that cannot be read never reads as 0).
func readError(t testing.TB, s Scaler) error {
	t.Helper()
	got, err := readOnce(t, s)
	if err == nil {
		t.Fatalf("Read = %v, nil; want an error", got)
	}
	return err
}

// activeAfter runs st and checks whether the trigger of m is then active by the poller's rule:
// the reading (which runSteps checked is st.want) above the activation parsed from m.
func activeAfter(t testing.TB, s Scaler, m trigger.Metadata, st step, active bool) {
	t.Helper()
	runSteps(t, s, []step{st})
	if isActive := st.want > trigger.Activation(m); isActive != active {
		t.Errorf("%s: value %v against activation %v: active = %v, want %v", st.name, st.want, trigger.Activation(m), isActive, active)
	}
}

// benchmarkRead measures s.Read, which must keep returning want.
func benchmarkRead(b *testing.B, s Scaler, want float64) {
	ctx := context.Background()
	if got, err := s.Read(ctx); err != nil || got != want { // connects, outside the measurement
		b.Fatalf("Read = %v, %v; want %v", got, err, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if got, err := s.Read(ctx); err != nil || got != want {
			b.Fatalf("Read = %v, %v; want %v", got, err, want)
		}
	}
}

// readFailsAfterStop stops a source s has read, then checks each of two reads (one on the
// pooled connection the stop broke, one that must connect) fails with an error starting prefix.
func readFailsAfterStop(t testing.TB, s Scaler, stop func() error, prefix string) {
	t.Helper()
	if _, err := readOnce(t, s); err != nil {
		t.Fatalf("Read before the stop: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := readError(t, s); !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("read %d after the stop: %v, want an error starting %q", i+1, err, prefix)
		}
	}
}
