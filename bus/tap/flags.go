package tap

import (
	"fmt"
	"strings"
	"time"

	"ebb.dev/schemas/msg"
)

// ParseKind reads -kind: ScaledObject or ScaledJob, in any case, or so or sj; "" is any kind.
func ParseKind(s string) (msg.Kind, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case "scaledobject", "so":
		return msg.ScaledObject, nil
	case "scaledjob", "sj":
		return msg.ScaledJob, nil
	}
	return "", fmt.Errorf("kind %q: want ScaledObject (so) or ScaledJob (sj)", s)
}

// ParseTypes reads -type: message types separated by commas; "" is every type.
func ParseTypes(s string) ([]msg.Type, error) {
	if s == "" {
		return nil, nil
	}
	var types []msg.Type
	for _, t := range strings.Split(s, ",") {
		typ := msg.Type(strings.TrimSpace(strings.ToLower(t)))
		switch typ {
		case msg.TypeReading, msg.TypeDecision, msg.TypeAction:
			types = append(types, typ)
		default:
			return nil, fmt.Errorf("type %q: want reading, decision or action", t)
		}
	}
	return types, nil
}

// Layout is the time layout for a tap: the time of day, with the date when a replay starts
// before today.
func Layout(since, now time.Time, loc *time.Location) string {
	y, m, d := now.In(loc).Date()
	if !since.IsZero() && since.Before(time.Date(y, m, d, 0, 0, 0, 0, loc)) {
		return time.DateTime
	}
	return time.TimeOnly
}
