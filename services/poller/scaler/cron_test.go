package scaler

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCron(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	weekdays := map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * 1-5", "end": "0 17 * * 1-5", "desiredReplicas": "7"}
	overnight := map[string]string{"timezone": "Etc/UTC", "start": "0 22 * * *", "end": "0 6 * * *", "desiredReplicas": "3"}
	kolkata := map[string]string{"timezone": "Asia/Kolkata", "start": "0 9 * * *", "end": "0 17 * * *", "desiredReplicas": "2"}
	berlin := map[string]string{"timezone": "Europe/Berlin", "start": "0 8 * * *", "end": "0 18 * * *", "desiredReplicas": "4"}
	// 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that day.
	newYorkGap := map[string]string{"timezone": "America/New_York", "start": "30 2 * * *", "end": "30 3 * * *", "desiredReplicas": "5"}
	tests := map[string]struct {
		meta map[string]string
		now  string
		want float64
	}{
		"weekday inside the window":        {weekdays, "2026-01-07T10:00:00Z", 7}, // a Wednesday
		"weekday a second before start":    {weekdays, "2026-01-07T08:59:59Z", 0},
		"weekday at start is inside":       {weekdays, "2026-01-07T09:00:00Z", 7},
		"weekday a second before end":      {weekdays, "2026-01-07T16:59:59Z", 7},
		"weekday at end is outside":        {weekdays, "2026-01-07T17:00:00Z", 0},
		"saturday is outside":              {weekdays, "2026-01-10T10:00:00Z", 0},
		"friday evening is outside":        {weekdays, "2026-01-09T20:00:00Z", 0},
		"overnight before midnight":        {overnight, "2026-01-07T23:00:00Z", 3},
		"overnight after midnight":         {overnight, "2026-01-08T05:59:00Z", 3},
		"overnight at end":                 {overnight, "2026-01-08T06:00:00Z", 0},
		"overnight at noon":                {overnight, "2026-01-08T12:00:00Z", 0},
		"kolkata 09:30 IST is 04:00 UTC":   {kolkata, "2026-01-07T04:00:00Z", 2},
		"kolkata 08:30 IST is 03:00 UTC":   {kolkata, "2026-01-07T03:00:00Z", 0},
		"kolkata 17:30 IST is 12:00 UTC":   {kolkata, "2026-01-07T12:00:00Z", 0},
		"berlin summer 08:30 CEST":         {berlin, "2026-10-24T06:30:00Z", 4},
		"berlin summer 07:30 CEST":         {berlin, "2026-10-24T05:30:00Z", 0},
		"berlin after fall back 08:30 CET": {berlin, "2026-10-25T07:30:00Z", 4},
		"berlin after fall back 07:30 CET": {berlin, "2026-10-25T06:30:00Z", 0},
		"berlin 17:59 CET":                 {berlin, "2026-10-25T16:59:00Z", 4},
		"berlin 18:00 CET":                 {berlin, "2026-10-25T17:00:00Z", 0},
		// The start at 02:30 is skipped on the gap day, so the day's end comes first.
		"new york gap day 01:59 EST":    {newYorkGap, "2026-03-08T06:59:00Z", 5},
		"new york gap day 03:15 EDT":    {newYorkGap, "2026-03-08T07:15:00Z", 5},
		"new york gap day 03:30 EDT":    {newYorkGap, "2026-03-08T07:30:00Z", 0},
		"new york next day 02:45 EDT":   {newYorkGap, "2026-03-09T06:45:00Z", 5},
		"new york next day 02:15 EDT":   {newYorkGap, "2026-03-09T06:15:00Z", 0},
		"new york day before 02:45 EST": {newYorkGap, "2026-03-07T07:45:00Z", 5},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			now := at(tc.now)
			s := build(t, "cron", tc.meta, nil, Deps{Now: func() time.Time { return now }})
			got, err := s.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Read at %s = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

func TestCronReadsTheClockEachTime(t *testing.T) {
	now := time.Date(2026, 1, 7, 8, 0, 0, 0, time.UTC)
	s := build(t, "cron", map[string]string{"timezone": "Etc/UTC", "start": "0 9 * * *", "end": "0 10 * * *", "desiredReplicas": "6"},
		nil, Deps{Now: func() time.Time { return now }})
	var got []float64
	for range 4 {
		v, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		now = now.Add(45 * time.Minute) // 08:00, 08:45, 09:30, 10:15
	}
	want := []float64{0, 0, 6, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reads = %v, want %v", got, want)
			break
		}
	}
}

func TestCronNeverFires(t *testing.T) {
	now := time.Date(2026, 1, 7, 8, 0, 0, 0, time.UTC)
	s := build(t, "cron", map[string]string{"timezone": "Etc/UTC", "start": "0 0 30 2 *", "end": "0 10 * * *", "desiredReplicas": "1"},
		nil, Deps{Now: func() time.Time { return now }})
	got, err := s.Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start never fires") {
		t.Errorf("Read = %v, %v; want the error that start never fires", got, err)
	}
}

func BenchmarkCronRead(b *testing.B) {
	now := time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC)
	s := build(b, "cron", map[string]string{"timezone": "Europe/Berlin", "start": "0 9 * * 1-5", "end": "0 17 * * 1-5", "desiredReplicas": "7"},
		nil, Deps{Now: func() time.Time { return now }})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
