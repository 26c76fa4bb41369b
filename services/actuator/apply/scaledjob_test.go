package apply

import (
	"testing"

	"ebb.dev/schemas/msg"
)

func TestJobsToCreate(t *testing.T) {
	tests := map[string]struct {
		decided       msg.Jobs
		have, running int32
		want          int32
	}{
		"first attempt, as the decider counted":              {decided: msg.Jobs{Create: 4}, want: 4},
		"more next to those running":                         {decided: msg.Jobs{Running: 4, Create: 2}, running: 4, want: 2},
		"a retry creates only what is missing":               {decided: msg.Jobs{Create: 4}, have: 1, running: 1, want: 3},
		"a repeated decision creates nothing":                {decided: msg.Jobs{Create: 4}, have: 4, running: 4, want: 0},
		"a repeat after its Jobs finished creates nothing":   {decided: msg.Jobs{Create: 4}, have: 4, running: 0, want: 0},
		"decided before an earlier decision's Jobs appeared": {decided: msg.Jobs{Create: 4}, running: 4, want: 0},
		"decided while some of them had appeared":            {decided: msg.Jobs{Running: 2, Create: 4}, running: 4, want: 2},
		"Jobs finished since: no more than asked":            {decided: msg.Jobs{Running: 4, Create: 2}, running: 1, want: 2},
		"nothing asked": {decided: msg.Jobs{Running: 3}, running: 0, want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := jobsToCreate(tc.decided, tc.have, tc.running); got != tc.want {
				t.Errorf("jobsToCreate(%+v, have %d, running %d) = %d, want %d", tc.decided, tc.have, tc.running, got, tc.want)
			}
		})
	}
}
