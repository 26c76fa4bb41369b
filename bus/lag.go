package bus

// LagBuckets are the histogram buckets of every service's bus lag (ebb_*_bus_lag_seconds):
// from a message taken up at once (milliseconds) to one held up by a slow bus or a long queue
// (half a minute). One set for all, so the services' lags compare bucket for bucket.
func LagBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
}
