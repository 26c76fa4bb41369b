package decider

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
	"ebb.dev/services/decider/decide"
)

func reading(at time.Duration, value float64, err string) msg.Reading {
	r := msgtest.Reading()
	r.ObservedAt, r.Value, r.Error = msgtest.T0.Add(at), value, err
	return r
}

func TestObserveCountsFailuresInARow(t *testing.T) {
	tests := map[string]struct {
		readings     []msg.Reading
		wantFailures int32
		wantCounted  []bool
	}{
		"a success counts none": {
			readings: []msg.Reading{reading(0, 5, "")}, wantFailures: 0, wantCounted: []bool{true}},
		"failures in a row add up": {
			readings:     []msg.Reading{reading(0, 5, ""), reading(time.Second, 0, "down"), reading(2*time.Second, 0, "down")},
			wantFailures: 2, wantCounted: []bool{true, true, true}},
		"a success resets the count": {
			readings:     []msg.Reading{reading(0, 0, "down"), reading(time.Second, 0, "down"), reading(2*time.Second, 3, "")},
			wantFailures: 0, wantCounted: []bool{true, true, true}},
		"a redelivered or older reading counts once": {
			readings:     []msg.Reading{reading(time.Second, 0, "down"), reading(time.Second, 0, "down"), reading(0, 0, "down")},
			wantFailures: 1, wantCounted: []bool{true, false, false}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var o object
			var counted []bool
			for _, r := range tc.readings {
				counted = append(counted, o.observe(r))
			}
			if diff := cmp.Diff(tc.wantCounted, counted); diff != "" {
				t.Errorf("observe (-want +got):\n%s", diff)
			}
			if got := o.triggers[0].failures; got != tc.wantFailures {
				t.Errorf("failures = %d, want %d", got, tc.wantFailures)
			}
		})
	}
}

func TestInputs(t *testing.T) {
	ref := msgtest.Object()
	tests := map[string]struct {
		readings []msg.Reading
		now      time.Time // default: when the last reading was observed
		want     []decide.Reading
		used     int
	}{
		"no reading yet":              {want: []decide.Reading{{Missing: true}}},
		"a value":                     {readings: []msg.Reading{reading(0, 7, "")}, want: []decide.Reading{{Value: 7, At: msgtest.T0}}, used: 1},
		"failures carry their count":  {readings: []msg.Reading{reading(0, 0, "x"), reading(time.Second, 0, "x")}, want: []decide.Reading{{Failures: 2}}, used: 1},
		"a reading of another object": {readings: []msg.Reading{func() msg.Reading { r := reading(0, 7, ""); r.Object.UID = "other"; return r }()}, want: []decide.Reading{{Missing: true}}},
		"a reading just inside three intervals is a value": {
			readings: []msg.Reading{reading(0, 7, "")}, now: msgtest.T0.Add(30 * time.Second), want: []decide.Reading{{Value: 7, At: msgtest.T0}}, used: 1},
		"a reading older than three intervals: each missed poll is a failure": {
			readings: []msg.Reading{reading(0, 7, "")}, now: msgtest.T0.Add(41 * time.Second), want: []decide.Reading{{Failures: 4}}, used: 1},
		"a reading of another trigger type at the index": {
			readings: []msg.Reading{func() msg.Reading { r := reading(0, 7, ""); r.Trigger.Type = "kafka"; return r }()}, want: []decide.Reading{{Missing: true}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := object{spec: &spec{ref: ref, types: []string{"rabbitmq"}, interval: 10 * time.Second}}
			now := msgtest.T0
			for _, r := range tc.readings {
				o.observe(r)
				now = r.ObservedAt
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			got, used := o.inputs(now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
			if len(used) != tc.used {
				t.Errorf("used %d readings, want %d", len(used), tc.used)
			}
		})
	}
}

func TestMergeTakesTheSavedCountWhenItSawAsMuch(t *testing.T) {
	tests := map[string]struct {
		local []msg.Reading
		saved triggerRecord
		want  int32
	}{
		"saved after the same reading":     {local: []msg.Reading{reading(time.Second, 0, "x")}, saved: triggerRecord{ObservedAt: msgtest.T0.Add(time.Second), Failures: 5}, want: 5},
		"saved after a later reading":      {local: []msg.Reading{reading(time.Second, 0, "x")}, saved: triggerRecord{ObservedAt: msgtest.T0.Add(time.Minute), Failures: 9}, want: 9},
		"saved before this replica's last": {local: []msg.Reading{reading(time.Minute, 0, "x")}, saved: triggerRecord{ObservedAt: msgtest.T0, Failures: 9}, want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var o object
			for _, r := range tc.local {
				o.observe(r)
			}
			o.merge(record{Triggers: []triggerRecord{tc.saved}})
			if got := o.triggers[0].failures; got != tc.want {
				t.Errorf("failures = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDigestIgnoresOnlyTimes(t *testing.T) {
	base := msgtest.Decision()
	later := base
	later.DecidedAt = base.DecidedAt.Add(time.Hour)
	later.Inputs = []msg.Reading{reading(time.Hour, base.Inputs[0].Value, "")}
	if digest(base) != digest(later) {
		t.Error("decisions that differ only in their times have different digests")
	}
	changes := map[string]func(*msg.Decision){
		"replicas": func(d *msg.Decision) { d.DesiredReplicas++ },
		"reason":   func(d *msg.Decision) { d.Reason = msg.ReasonMax },
		"current":  func(d *msg.Decision) { d.CurrentReplicas++ },
		"metric":   func(d *msg.Decision) { d.Metrics = []msg.MetricValue{{Name: "m", Value: 1, Fallback: true}} },
		"input":    func(d *msg.Decision) { d.Inputs = []msg.Reading{reading(0, 99, "")} },
		"jobs":     func(d *msg.Decision) { d.Jobs = &msg.Jobs{Create: 1} },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			d := msgtest.Decision()
			change(&d)
			if digest(d) == digest(base) {
				t.Errorf("a change of %s leaves the digest unchanged", name)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{ID: "decider-0", Bus: busConfig()}
	tests := map[string]struct {
		change func(*Config)
		want   string
	}{
		"defaults":          {change: func(*Config) {}},
		"no bus url":        {change: func(c *Config) { c.Bus.URL = "" }, want: "decider config: bus.url: must be set"},
		"a dotted id":       {change: func(c *Config) { c.ID = "decider.0" }, want: `decider config: id, partitions or leaseTTL: id "decider.0": want letters, digits, '-' or '_'`},
		"too many workers":  {change: func(c *Config) { c.Workers = 1000 }, want: "decider config: workers 1000: want 1 to 256"},
		"a bad prefix":      {change: func(c *Config) { c.Bus.Prefix = "a.b" }, want: `decider config: bus.prefix: prefix "a.b": only letters, digits, '-' and '_' are allowed`},
		"a lease too short": {change: func(c *Config) { c.LeaseTTL = time.Millisecond }, want: "decider config: id, partitions or leaseTTL: ttl 1ms: want at least 100ms"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEveryDecideReasonIsAMessageReason(t *testing.T) {
	for _, r := range []decide.Reason{decide.ReasonActivate, decide.ReasonDeactivate, decide.ReasonIdle, decide.ReasonCooldown,
		decide.ReasonHPA, decide.ReasonFallback, decide.ReasonPaused, decide.ReasonMin, decide.ReasonMax, decide.ReasonFailing, decide.ReasonJobs} {
		if !slices.Contains(msg.Reasons(), msg.Reason(r)) {
			t.Errorf("decide reason %q is not a msg.Reason: decisions with it would not validate", r)
		}
	}
}
