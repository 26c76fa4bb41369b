package tap_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/bus/tap"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

func TestText(t *testing.T) {
	tests := map[string]struct {
		m    msg.Message
		want string
	}{
		"active reading":    {m: msgtest.Reading(), want: "14:02:07 orders/consumer reading s0-rabbitmq-orders=100/5 active (poller-0)"},
		"inactive reading":  {m: edit(msgtest.Reading(), func(r *msg.Reading) { r.Value, r.Active = 0, false }), want: "14:02:07 orders/consumer reading s0-rabbitmq-orders=0/5 inactive (poller-0)"},
		"failed reading":    {m: msgtest.FailedReading(), want: "14:02:07 orders/consumer reading s0-rabbitmq-orders error: dial tcp 127.0.0.1:5672: connect: connection refused (poller-0)"},
		"fractional values": {m: edit(msgtest.Reading(), func(r *msg.Reading) { r.Value, r.Target.Value = 0.25, 1500000 }), want: "14:02:07 orders/consumer reading s0-rabbitmq-orders=0.25/1500000 active (poller-0)"},
		"decision":          {m: msgtest.Decision(), want: "14:02:08 orders/consumer decision 1→20 hpa (s0-rabbitmq-orders=100/5)"},
		"decision on two triggers, one failing": {
			m: edit(msgtest.Decision(), func(d *msg.Decision) {
				f := msgtest.FailedReading()
				f.Trigger.Index, f.Trigger.MetricName = 1, "s1-kafka-payments"
				d.Inputs, d.Reason = append(d.Inputs, f), msg.ReasonFallback
			}),
			want: "14:02:08 orders/consumer decision 1→20 fallback (s0-rabbitmq-orders=100/5, s1-kafka-payments failing)",
		},
		"decision without inputs": {m: edit(msgtest.Decision(), func(d *msg.Decision) { d.Inputs, d.Reason, d.DesiredReplicas = nil, msg.ReasonPaused, 1 }), want: "14:02:08 orders/consumer decision 1→1 paused"},
		"scaledjob decision":      {m: msgtest.JobDecision(), want: "14:02:08 orders/scaledjob/consumer decision create 3 jobs, 2 running, 1 pending jobs (s0-rabbitmq-orders=100/5)"},
		"action":                  {m: msgtest.Action(), want: "14:02:09 orders/consumer action scale 1→20 ok"},
		"failed action":           {m: msgtest.FailedAction(), want: `14:02:09 orders/consumer action scale 1→20 failed: deployments.apps "consumer" not found`},
		"action without counts":   {m: msgtest.StatusAction(), want: "14:02:09 orders/consumer action status ok"},
		"action with a target only": {
			m:    edit(msgtest.Action(), func(a *msg.Action) { a.Operation, a.From = msg.OpHPACreate, nil }),
			want: "14:02:09 orders/consumer action hpa-create →20 ok",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (tap.Printer{}).Text(tc.m); got != tc.want {
				t.Errorf("Text =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPrinterTimeAndOutput(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	data, err := msg.Marshal(msgtest.Action())
	if err != nil {
		t.Fatal(err)
	}
	const subject = "ebb.action.orders.so.consumer"
	tests := map[string]struct {
		p       tap.Printer
		data    string
		want    string
		wantHas string
	}{
		"local time":      {p: tap.Printer{Location: berlin}, data: string(data), want: "15:02:09 orders/consumer action scale 1→20 ok"},
		"date and time":   {p: tap.Printer{Layout: time.DateTime}, data: string(data), want: "2026-11-28 14:02:09 orders/consumer action scale 1→20 ok"},
		"json":            {p: tap.Printer{Output: tap.JSON}, data: string(data), want: string(data)},
		"invalid as text": {p: tap.Printer{}, data: `{"schema":"ebb.dev/action/v1"}`, wantHas: "invalid message on " + subject + ": invalid action: object.namespace: must not be empty"},
		"invalid as json": {p: tap.Printer{Output: tap.JSON}, data: `not json`, wantHas: `{"subject":"` + subject + `","error":"decode message:`},
		"unknown schema":  {p: tap.Printer{}, data: `{"schema":"ebb.dev/reading/v9"}`, wantHas: `unknown schema "ebb.dev/reading/v9"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.p.Line(subject, []byte(tc.data))
			if tc.want != "" && got != tc.want {
				t.Errorf("Line =\n%s\nwant\n%s", got, tc.want)
			}
			if !strings.Contains(got, tc.wantHas) {
				t.Errorf("Line = %q, want it to contain %q", got, tc.wantHas)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("Line %q spans several lines", got)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		in      string
		want    time.Time
		wantErr string
	}{
		"an hour ago":    {in: "1h", want: now.Add(-time.Hour)},
		"ninety seconds": {in: "90s", want: now.Add(-90 * time.Second)},
		"a UTC time":     {in: "2026-11-28T14:00:00Z", want: time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)},
		"an offset time": {in: "2026-11-28T15:00:00+01:00", want: time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)},
		"negative":       {in: "-1h", wantErr: "must be positive"},
		"nonsense":       {in: "yesterday", wantErr: "want a duration such as 1h"},
		"a date only":    {in: "2026-11-28", wantErr: "want a duration such as 1h"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tap.ParseSince(tc.in, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSince error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ParseSince = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]struct {
		cfg     tap.Config
		wantErr string
	}{
		"live everything":      {cfg: tap.Config{}},
		"replay decisions":     {cfg: tap.Config{Since: time.Now(), Types: []msg.Type{msg.TypeDecision}}},
		"follow readings":      {cfg: tap.Config{Since: time.Now(), Follow: true, Types: []msg.Type{msg.TypeReading}}},
		"unknown type":         {cfg: tap.Config{Types: []msg.Type{"metric"}}, wantErr: "type:"},
		"unknown kind":         {cfg: tap.Config{Filter: msg.Filter{Kind: "Deployment"}}, wantErr: "kind:"},
		"unknown output":       {cfg: tap.Config{Printer: tap.Printer{Output: "yaml"}}, wantErr: "output:"},
		"replay readings only": {cfg: tap.Config{Since: time.Now(), Types: []msg.Type{msg.TypeReading}}, wantErr: "readings can only be followed live"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func edit[T any](v T, f func(*T)) T {
	f(&v)
	return v
}

func TestFlagParsers(t *testing.T) {
	kinds := map[string]msg.Kind{"": "", "ScaledObject": msg.ScaledObject, "so": msg.ScaledObject, "SCALEDJOB": msg.ScaledJob, "sj": msg.ScaledJob}
	for in, want := range kinds {
		if got, err := tap.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := tap.ParseKind("Deployment"); err == nil {
		t.Error("ParseKind(Deployment) succeeded")
	}
	got, err := tap.ParseTypes("decision, Action")
	if diff := cmp.Diff([]msg.Type{msg.TypeDecision, msg.TypeAction}, got); diff != "" || err != nil {
		t.Errorf("ParseTypes (-want +got):\n%s %v", diff, err)
	}
	if _, err := tap.ParseTypes("reading,metric"); err == nil || !strings.Contains(err.Error(), `"metric"`) {
		t.Errorf("ParseTypes(reading,metric) error = %v, want it to name metric", err)
	}
}

func TestLayout(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		since time.Time
		want  string
	}{
		"live":            {want: time.TimeOnly},
		"since this hour": {since: now.Add(-time.Hour), want: time.TimeOnly},
		"since yesterday": {since: now.Add(-24 * time.Hour), want: time.DateTime},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tap.Layout(tc.since, now, time.UTC); got != tc.want {
				t.Errorf("Layout = %q, want %q", got, tc.want)
			}
		})
	}
}
