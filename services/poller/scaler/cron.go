package scaler

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"ebb.dev/schemas/trigger"
)

// cronWindow reads desiredReplicas between start and end (in the trigger's time zone) and 0
// outside. Inside the window the next end comes before the next start.
type cronWindow struct {
	start, end cron.Schedule
	loc        *time.Location
	replicas   float64
	now        func() time.Time
}

func newCron(m trigger.Cron, d Deps) (Scaler, error) {
	loc, err := m.Location()
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	start, err := trigger.ParseCron(m.Start)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	end, err := trigger.ParseCron(m.End)
	if err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	return &cronWindow{start: start, end: end, loc: loc, replicas: float64(m.DesiredReplicas), now: d.Now}, nil
}

func (c *cronWindow) Read(context.Context) (float64, error) {
	now := c.now().In(c.loc)
	nextStart, nextEnd := c.start.Next(now), c.end.Next(now)
	switch {
	case nextStart.IsZero():
		return 0, fmt.Errorf("cron: start never fires")
	case nextEnd.IsZero():
		return 0, fmt.Errorf("cron: end never fires")
	case nextStart.Before(nextEnd):
		return 0, nil
	}
	// KEDA counts a start and end at the same instant as inside the window.
	return c.replicas, nil
}
