package bench

import "testing"

func TestSourceValue(t *testing.T) {
	for i := range 3 * activeEvery {
		prev := -1
		for n := range 200 {
			v := sourceValue(i, n)
			if v == prev {
				t.Fatalf("object %d reads %d at polls %d and %d: a decision would not change", i, v, n-1, n)
			}
			prev = v
			active := v > fleetActivation
			if active != (i%activeEvery == 0) || v >= fleetTarget {
				t.Fatalf("object %d poll %d reads %d: active %v, want active only every %dth object and under the target %d", i, n, v, active, activeEvery, fleetTarget)
			}
		}
	}
}
