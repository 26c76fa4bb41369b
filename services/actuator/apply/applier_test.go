package apply

import (
	"log/slog"
	"testing"
	"time"

	"ebb.dev/schemas/msg"
)

// TestReceiveKeepsTheNewest checks the coalescing in front of the workers: per object only the
// newest decision waits, and nothing at or before the last applied one is taken again.
func TestReceiveKeepsTheNewest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int, name string) msg.Decision {
		return msg.Decision{Object: msg.ObjectRef{Namespace: "shop", Kind: msg.ScaledObject, Name: name}, DecidedAt: t0.Add(time.Duration(s) * time.Second)}
	}
	tests := map[string]struct {
		applied  int // seconds after t0 of the last applied decision; -1 for none
		received []msg.Decision
		want     int // seconds after t0 of the decision left waiting; -1 for none
		queued   int
	}{
		"the newest of a burst waits":                {applied: -1, received: []msg.Decision{at(1, "a"), at(3, "a"), at(2, "a")}, want: 3, queued: 1},
		"a decision already applied is not retaken":  {applied: 5, received: []msg.Decision{at(5, "a")}, want: -1},
		"an older one after an applied one is stale": {applied: 5, received: []msg.Decision{at(4, "a")}, want: -1},
		"a newer one after an applied one waits":     {applied: 5, received: []msg.Decision{at(6, "a")}, want: 6, queued: 1},
		"objects are independent":                    {applied: -1, received: []msg.Decision{at(1, "a"), at(1, "b")}, want: 1, queued: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := New(Config{}, Deps{Logger: slog.New(slog.DiscardHandler)})
			defer a.queue.ShutDown()
			k := key{kind: msg.ScaledObject}
			k.Namespace, k.Name = "shop", "a"
			if tc.applied >= 0 {
				a.objects[k] = &object{applied: t0.Add(time.Duration(tc.applied) * time.Second)}
			}
			for _, d := range tc.received {
				a.receive(d)
			}
			got := -1
			if o := a.objects[k]; o != nil && o.latest != nil {
				got = int(o.latest.DecidedAt.Sub(t0) / time.Second)
			}
			if got != tc.want || a.queue.Len() != tc.queued {
				t.Errorf("waiting decision at +%ds with %d objects queued, want +%ds and %d", got, a.queue.Len(), tc.want, tc.queued)
			}
		})
	}
}
