package e2e

import (
	"testing"
	"time"

	"ebb.dev/bus"
	"ebb.dev/schemas/msg"
)

// pollerReadings: the poller process reads a cron trigger of a ScaledObject applied to the
// cluster and its reading lands in the bus's last-value store, readable by the tap user.
func pollerReadings(t *testing.T, e *env) {
	e.Namespace(t, "readings")
	createDeployment(t, e.Stack, "readings", "consumer", 0)
	e.apply(t, scaledObjects, scaledObjectManifest("readings", "consumer", map[string]any{
		"triggers": []any{map[string]any{"type": "cron", "metadata": map[string]any{
			// Active all year but the last minute of it.
			"timezone": "Etc/UTC", "start": "0 0 1 1 *", "end": "59 23 31 12 *", "desiredReplicas": "3",
		}}},
	}))

	tap := e.Connect(t, bus.RoleTap)
	var r msg.Reading
	waitUntil(t, 30*time.Second, "a reading of s0-cron", func() bool {
		var ok bool
		r, ok = e.lastReading(t, tap, "readings", "consumer")
		return ok && r.Error == ""
	})
	if r.Value != 3 || !r.Active || r.Trigger.Type != "cron" || r.Object.Kind != msg.ScaledObject {
		t.Errorf("reading = %+v, want an active cron reading of 3", r)
	}
}
