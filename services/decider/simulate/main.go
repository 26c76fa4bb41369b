package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/decider/crd"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// Config is one `ebb simulate` invocation.
type Config struct {
	Object   string        // file with one ScaledObject or ScaledJob (YAML or JSON)
	Timeline string        // JSONL file of Steps
	Output   string        // table (the default) or json
	Plot     string        // when set, an SVG of the run is written to this file
	PodStart time.Duration // how long a new pod takes to become ready
	Duration time.Duration // how long to run; until the timeline has played out when zero
	Replicas int32         // the target's replicas at the start
}

// Validate reports the first flag that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Object == "":
		return errors.New("-f: the ScaledObject or ScaledJob file is required")
	case c.Timeline == "":
		return errors.New("-t: the timeline file is required")
	case c.Output != "" && c.Output != OutputTable && c.Output != OutputJSON:
		return fmt.Errorf("-o: %q is not table or json", c.Output)
	case c.Plot != "" && !strings.EqualFold(filepath.Ext(c.Plot), ".svg"):
		return fmt.Errorf("--plot: %q: only .svg plots are written", c.Plot)
	case c.PodStart < 0 || c.Duration < 0:
		return errors.New("--pod-start and --duration must not be negative")
	case c.Replicas < 0:
		return errors.New("--replicas must not be negative")
	}
	return nil
}

// Main reads the object and the timeline, runs the simulation and writes the result.
func Main(ctx context.Context, c Config, stdout io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	steps, err := readSteps(c.Timeline)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	run, err := simulateFile(c, steps)
	if err != nil {
		return err
	}
	if c.Plot != "" {
		if err := writeFile(c.Plot, run.WriteSVG); err != nil {
			return err
		}
	}
	if c.Output == OutputJSON {
		return run.WriteJSONL(stdout)
	}
	return run.WriteTable(stdout)
}

func readSteps(path string) ([]Step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open timeline: %w", err)
	}
	defer f.Close()
	return ReadTimeline(f)
}

// simulateFile decodes the object by its kind and runs it.
func simulateFile(c Config, steps []Step) (*Run, error) {
	data, err := os.ReadFile(c.Object)
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	var meta struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Object, err)
	}
	opts := Options{PodStart: c.PodStart, Duration: c.Duration, Replicas: c.Replicas}
	reg := trigger.Builtin()
	switch meta.Kind {
	case v1alpha1.KindScaledObject:
		var so v1alpha1.ScaledObject
		if err := yaml.UnmarshalStrict(data, &so); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Object, err)
		}
		spec, err := crd.ScaledObject(&so, reg, crd.Unresolved)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Object, err)
		}
		opts.PollingInterval = crd.PollingInterval(so.Spec.PollingInterval)
		return Object(spec, steps, opts)
	case v1alpha1.KindScaledJob:
		var sj v1alpha1.ScaledJob
		if err := yaml.UnmarshalStrict(data, &sj); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Object, err)
		}
		spec, err := crd.ScaledJob(&sj, reg, crd.Unresolved)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Object, err)
		}
		opts.PollingInterval = crd.PollingInterval(sj.Spec.PollingInterval)
		return Job(spec, steps, opts)
	}
	return nil, fmt.Errorf("%s: kind %q: want ScaledObject or ScaledJob", c.Object, meta.Kind)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create plot: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	return nil
}
