package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is the spread of a set of durations; N is 0 when there were none.
type Summary struct {
	N           int
	Median, P95 time.Duration
	Min, Max    time.Duration
}

// Summarize returns the median, 95th percentile, minimum and maximum of ds.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return Summary{
		N: len(sorted), Median: Percentile(sorted, 50), P95: Percentile(sorted, 95),
		Min: sorted[0], Max: sorted[len(sorted)-1],
	}
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by nearest rank: the
// smallest value with at least p % of the values at or below it. With 5 values the 95th
// percentile is the largest; it takes 20 for it to differ from the maximum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Seconds formats d as seconds with three significant decimals below 10 s ("0.412 s",
// "15.3 s"), the unit the issues' targets are written in.
func Seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case math.Abs(s) < 10:
		return fmt.Sprintf("%.3f s", s)
	case math.Abs(s) < 100:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}
