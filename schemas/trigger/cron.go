package trigger

import (
	"strings"
	"time"
	_ "time/tzdata" // the webhook and poller must agree on zone names whatever the image ships

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Cron is active between start and end, read in timezone, and then reads desiredReplicas
// (target 1, so the reading is the replica count).
type Cron struct {
	Timezone        string `trigger:"timezone"`
	Start           string `trigger:"start"`
	End             string `trigger:"end"`
	DesiredReplicas int64  `trigger:"desiredReplicas"`
}

// cronParser reads the five standard fields, as KEDA's cron scaler does.
const cronFields = cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow

// ParseCron parses a five-field cron expression the way Cron validation does.
func ParseCron(spec string) (cron.Schedule, error) {
	return cron.NewParser(cronFields).Parse(spec)
}

// Location is the parsed timezone; valid after Parse accepted the trigger.
func (m Cron) Location() (*time.Location, error) { return time.LoadLocation(m.Timezone) }

// MetricDetail is <timezone>-<start>-<end> with blanks dropped and '*' as 'x', as KEDA names it.
func (m Cron) MetricDetail() string {
	compact := strings.NewReplacer(" ", "", "*", "x")
	return m.Timezone + "-" + compact.Replace(m.Start) + "-" + compact.Replace(m.End)
}

func (m Cron) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if _, err := time.LoadLocation(m.Timezone); err != nil {
		errs = append(errs, field.Invalid(c.path("timezone"), m.Timezone, "must be an IANA time zone such as Europe/Berlin"))
	}
	for _, p := range []struct{ name, spec string }{{"start", m.Start}, {"end", m.End}} {
		if _, err := ParseCron(p.spec); err != nil {
			errs = append(errs, field.Invalid(c.path(p.name), p.spec, "must be a five-field cron expression: "+err.Error()))
		}
	}
	if m.Start == m.End {
		errs = append(errs, field.Invalid(c.path("end"), m.End, "must differ from start"))
	}
	if m.DesiredReplicas < 1 {
		errs = append(errs, field.Invalid(c.path("desiredReplicas"), m.DesiredReplicas, "must be at least 1"))
	}
	return errs
}
