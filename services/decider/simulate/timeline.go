package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Offset is a time since the start of the simulation. In JSON it is a Go duration string
// ("90s", "1m30s") or a number of seconds; it is written as a duration string.
type Offset time.Duration

// UnmarshalJSON accepts "1m30s" or 90.
func (o *Offset) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("offset %q: %w", s, err)
		}
		*o = Offset(d)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("offset %s: want a duration such as \"90s\" or a number of seconds", b)
	}
	*o = Offset(time.Duration(secs * float64(time.Second)))
	return nil
}

// MarshalJSON writes the offset as a duration string.
func (o Offset) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(o.String())), nil }

func (o Offset) String() string { return time.Duration(o).String() }

// Step changes the event sources from At on: a trigger named in Values reads that value, one
// named in Errors fails its polls, until a later step says otherwise. Triggers never named read
// 0. For ScaledJobs, Running and Pending set the Job counts (Jobs ebb creates are added to
// Running until a later step sets it again).
type Step struct {
	At      Offset             `json:"at"`
	Values  map[string]float64 `json:"values,omitempty"`
	Errors  []string           `json:"errors,omitempty"`
	Running *int32             `json:"running,omitempty"`
	Pending *int32             `json:"pending,omitempty"`
	Line    int                `json:"-"` // where it was read, for errors
}

// ReadTimeline reads one Step per line; blank lines and lines starting with # are skipped.
// Steps must not go back in time.
func ReadTimeline(r io.Reader) ([]Step, error) {
	var steps []Step
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var s Step
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("timeline line %d: %w", n, err)
		}
		s.Line = n
		if err := s.check(steps); err != nil {
			return nil, fmt.Errorf("timeline line %d: %w", n, err)
		}
		steps = append(steps, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	return steps, nil
}

func (s Step) check(before []Step) error {
	if s.At < 0 {
		return fmt.Errorf("at: %s is before the start", s.At)
	}
	if len(before) > 0 && s.At < before[len(before)-1].At {
		return fmt.Errorf("at: %s goes back in time (previous step at %s)", s.At, before[len(before)-1].At)
	}
	for _, n := range []*int32{s.Running, s.Pending} {
		if n != nil && *n < 0 {
			return fmt.Errorf("running and pending must not be negative")
		}
	}
	return nil
}
