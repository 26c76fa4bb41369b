package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"ebb.dev/test/bench"
)

// runScenario runs one scenario in its own scratch folder and returns its section, with the
// failure in it when it failed (a panic counts as a failure, so the next scenario still runs).
func runScenario(ctx context.Context, s bench.Scenario, env bench.Env) (sec bench.Section, ok bool) {
	started := time.Now()
	env.Log.Info("scenario started", "dir", env.Dir)
	err := os.MkdirAll(env.Dir, 0o755)
	if err == nil {
		sec, err = protect(ctx, s, env)
	}
	if sec.Title == "" {
		sec.Title = s.Name
	}
	took := time.Since(started).Round(time.Second)
	if err != nil {
		env.Log.Error("scenario failed", "took", took, "error", err)
		sec.Title += " (failed)"
		sec.Notes = append(sec.Notes, fmt.Sprintf("**Failed** after %s: %v. Logs and state: %s.", took, err, env.Dir))
		return sec, false
	}
	env.Log.Info("scenario done", "took", took)
	sec.Notes = append(sec.Notes, fmt.Sprintf("Scenario %q ran in %s; logs and state in %s.", s.Name, took, env.Dir))
	return sec, true
}

func protect(ctx context.Context, s bench.Scenario, env bench.Env) (sec bench.Section, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.Run(ctx, env)
}
