package e2e

import (
	"fmt"
	"testing"
	"time"

	"ebb.dev/bus"
)

// cronWindow: a one-minute cron window that opens a few seconds after the ScaledObject is
// created takes a Deployment from zero to desiredReplicas (at once, on ebb's fast path) and,
// once it closes, back to zero. Cron counts in whole minutes, so the window is the
// next whole minute at least minLead away; the poller reads the real clock.
func cronWindow(t *testing.T, e *env) {
	const ns, name = "cron", "reports"
	const minLead = 8 * time.Second
	e.Namespace(t, ns)
	createDeployment(t, e.Stack, ns, name, 0)
	opens := time.Now().UTC().Add(minLead).Truncate(time.Minute).Add(time.Minute)
	closes := opens.Add(time.Minute)
	e.apply(t, scaledObjects, scaledObjectManifest(ns, name, map[string]any{
		"maxReplicaCount": int64(10),
		"triggers": []any{map[string]any{"type": "cron", "metadata": map[string]any{
			"timezone": "Etc/UTC", "start": cronAt(opens), "end": cronAt(closes), "desiredReplicas": "3",
		}}},
	}))

	// Before the window: read, inactive, nothing scaled.
	tap := e.Connect(t, bus.RoleTap)
	poll(t, minLead, "an inactive cron reading before the window opens", func() (bool, string) {
		r, ok := e.lastReading(t, tap, ns, name)
		return ok && r.Error == "" && !r.Active && r.Value == 0 && r.ObservedAt.Before(opens), fmt.Sprintf("%+v", r)
	})
	e.HoldsReplicas(t, ns, name, 0, time.Until(opens)-time.Second)

	e.WaitForReplicas(t, ns, name, 3, time.Until(opens)+20*time.Second)
	e.HoldsReplicas(t, ns, name, 3, time.Until(closes)-time.Second)

	e.WaitForReplicas(t, ns, name, 0, time.Until(closes)+45*time.Second)
}

// cronAt is a five-field cron schedule that fires at t's minute (UTC) every day.
func cronAt(t time.Time) string {
	return fmt.Sprintf("%d %d * * *", t.Minute(), t.Hour())
}
