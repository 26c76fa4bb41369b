package apply

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ebb.dev/schemas/msg"
)

func TestNeedsScaleWrite(t *testing.T) {
	tests := map[string]struct {
		current, desired, min int32
		reason                msg.Reason
		want                  bool
	}{
		"activate: 0 to 1":                                      {current: 0, desired: 1, want: true},
		"activate to min: 0 to 3":                               {current: 0, desired: 3, min: 3, want: true},
		"activate past min goes straight to N":                  {current: 0, desired: 5, min: 2, want: true},
		"deactivate: N to 0":                                    {current: 4, desired: 0, want: true},
		"deactivate 1 to 0":                                     {current: 1, desired: 0, want: true},
		"to idle below min":                                     {current: 5, desired: 1, min: 3, want: true},
		"from idle back to min":                                 {current: 1, desired: 3, min: 3, want: true},
		"raise to min":                                          {current: 2, desired: 4, min: 4, want: true},
		"between floor and max the HPA decides":                 {current: 3, desired: 7, min: 0},
		"scale-down inside the range is the HPA's":              {current: 7, desired: 2, min: 1},
		"at the floor and staying":                              {current: 1, desired: 1},
		"zero and staying zero":                                 {current: 0, desired: 0},
		"idle and staying idle":                                 {current: 1, desired: 1, min: 3},
		"min 0 counts as a floor of 1":                          {current: 1, desired: 2, min: 0},
		"min 1 to 1 is no write":                                {current: 1, desired: 1, min: 1},
		"fast path raises inside the HPA's range":               {current: 1, desired: 20, reason: msg.ReasonFastPath, want: true},
		"fast path from zero":                                   {current: 0, desired: 20, reason: msg.ReasonFastPath, want: true},
		"fast path above min":                                   {current: 4, desired: 9, min: 3, reason: msg.ReasonFastPath, want: true},
		"fast path never lowers a count the HPA raised past it": {current: 25, desired: 20, reason: msg.ReasonFastPath},
		"fast path at the count is no write":                    {current: 20, desired: 20, reason: msg.ReasonFastPath},
		"an hpa decision inside the range is the HPA's":         {current: 1, desired: 20, reason: msg.ReasonHPA},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NeedsScaleWrite(tc.current, tc.desired, tc.min, tc.reason); got != tc.want {
				t.Errorf("NeedsScaleWrite(%d, %d, min %d, %q) = %v, want %v", tc.current, tc.desired, tc.min, tc.reason, got, tc.want)
			}
		})
	}
}

func TestMayNeedScaleWrite(t *testing.T) {
	tests := map[string]struct {
		current, desired int32
		known            *int32
		reason           msg.Reason
		want             bool
	}{
		"the decision sees zero":                      {current: 0, desired: 1, want: true},
		"steady in the HPA's range, nothing known":    {current: 4, desired: 4},
		"steady at zero":                              {current: 0, desired: 0, known: new(int32(0))},
		"the decision lags but the applier saw zero":  {current: 3, desired: 3, known: new(int32(0)), want: true},
		"steady in range by both views":               {current: 3, desired: 5, known: new(int32(3))},
		"deactivate seen by the decision, none known": {current: 2, desired: 0, want: true},
		"the decision lags on a deactivation as well": {current: 0, desired: 0, known: new(int32(2)), want: true},
		"a fast-path step":                            {current: 1, desired: 20, reason: msg.ReasonFastPath, want: true},
		"a fast-path decision the count has reached":  {current: 1, desired: 20, known: new(int32(20)), reason: msg.ReasonFastPath, want: true},
		"the HPA's own target":                        {current: 1, desired: 20, known: new(int32(1)), reason: msg.ReasonHPA},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := msg.Decision{CurrentReplicas: tc.current, DesiredReplicas: tc.desired, Reason: tc.reason}
			if got := mayNeedScaleWrite(d, tc.known, 0); got != tc.want {
				t.Errorf("mayNeedScaleWrite = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	deleting := metav1.NewTime(now)
	obj := func(generation int64, deleted bool) *metav1.ObjectMeta {
		m := &metav1.ObjectMeta{UID: "uid-1", Generation: generation}
		if deleted {
			m.DeletionTimestamp = &deleting
		}
		return m
	}
	decision := func(generation int64, age time.Duration, mutate ...func(*msg.Decision)) msg.Decision {
		d := msg.Decision{Object: msg.ObjectRef{UID: "uid-1", Generation: generation}, DecidedAt: now.Add(-age), PollingInterval: 30, Reason: msg.ReasonActivate}
		for _, m := range mutate {
			m(&d)
		}
		return d
	}
	tests := map[string]struct {
		d      msg.Decision
		obj    *metav1.ObjectMeta
		paused bool
		want   verdict
	}{
		"a fresh decision for the current generation applies": {d: decision(2, time.Second), obj: obj(2, false), want: apply},
		"an older generation is stale":                        {d: decision(1, time.Second), obj: obj(2, false), want: skip},
		"a newer generation waits for the cache":              {d: decision(3, time.Second), obj: obj(2, false), want: wait},
		"a paused object ignores decisions":                   {d: decision(2, time.Second), obj: obj(2, false), paused: true, want: skip},
		"a paused decision is not applied":                    {d: decision(2, 0, func(d *msg.Decision) { d.Reason = msg.ReasonPaused }), obj: obj(2, false), want: skip},
		"a deleting object ignores decisions":                 {d: decision(2, 0), obj: obj(2, true), want: skip},
		"another object of the same name":                     {d: decision(2, 0, func(d *msg.Decision) { d.Object.UID = "uid-0" }), obj: obj(2, false), want: skip},
		"no UID in the decision matches any":                  {d: decision(2, 0, func(d *msg.Decision) { d.Object.UID = "" }), obj: obj(2, false), want: apply},
		"three intervals old still applies":                   {d: decision(2, 90*time.Second), obj: obj(2, false), want: apply},
		"older than three intervals has expired":              {d: decision(2, 91*time.Second), obj: obj(2, false), want: skip},
		"short intervals still get 30 s":                      {d: decision(2, 29*time.Second, func(d *msg.Decision) { d.PollingInterval = 1 }), obj: obj(2, false), want: apply},
		"short intervals expire after 30 s":                   {d: decision(2, 31*time.Second, func(d *msg.Decision) { d.PollingInterval = 1 }), obj: obj(2, false), want: skip},
		"no interval means the default 30 s":                  {d: decision(2, 91*time.Second, func(d *msg.Decision) { d.PollingInterval = 0 }), obj: obj(2, false), want: skip},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, why := judge(tc.d, tc.obj, tc.paused, now)
			if got != tc.want {
				t.Errorf("judge = %v (%s), want %v", got, why, tc.want)
			}
			if (got == apply) != (why == "") {
				t.Errorf("judge reason %q does not match verdict %v", why, got)
			}
		})
	}
}
