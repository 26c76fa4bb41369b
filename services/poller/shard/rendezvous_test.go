package shard

import (
	"fmt"
	"math"
	"testing"
)

func TestOwner(t *testing.T) {
	tests := map[string]struct {
		members []string
		key     string
		want    string
	}{
		"no members owns nothing":     {members: nil, key: "a", want: ""},
		"a single member owns all":    {members: []string{"p0"}, key: "shop.so.orders.0", want: "p0"},
		"order of members is ignored": {members: []string{"p2", "p0", "p1"}, key: "shop.so.orders.0", want: Owner([]string{"p0", "p1", "p2"}, "shop.so.orders.0")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Owner(tc.members, tc.key); got != tc.want {
				t.Errorf("Owner(%v, %q) = %q, want %q", tc.members, tc.key, got, tc.want)
			}
		})
	}
}

// keys are trigger keys shaped like the real ones: many objects, few triggers each.
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ns-%d.so.app-%d.%d", i%7, i/3, i%3)
	}
	return out
}

func TestOwnerSpreadsKeysEvenly(t *testing.T) {
	members := []string{"poller-a", "poller-b", "poller-c"}
	count := map[string]int{}
	ks := keys(30000)
	for _, k := range ks {
		count[Owner(members, k)]++
	}
	want := float64(len(ks)) / float64(len(members))
	for _, m := range members {
		if dev := math.Abs(float64(count[m])-want) / want; dev > 0.05 {
			t.Errorf("%s owns %d keys, %.1f%% off the even share %.0f", m, count[m], dev*100, want)
		}
	}
}

func TestOwnerMovesOnlyTheLeaversKeys(t *testing.T) {
	before := []string{"p0", "p1", "p2", "p3"}
	after := []string{"p0", "p1", "p3"} // p2 left
	moved := 0
	for _, k := range keys(10000) {
		was, is := Owner(before, k), Owner(after, k)
		if was != "p2" && was != is {
			t.Fatalf("key %s moved from %s to %s though its owner stayed", k, was, is)
		}
		if was == "p2" {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("p2 owned no key")
	}
}
