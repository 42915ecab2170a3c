package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIDSet: whatever the order, the repeats and the size, sorted returns
// the distinct members in order, as a list and after the switch to a
// bitmap.
func TestIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bound := range []int{1, 63, 64, 65, 1000, 50000} {
		for _, adds := range []int{1, 5, 40, 2000} {
			u := newIDSet(bound)
			want := map[int32]bool{}
			for range adds {
				id := int32(rng.IntN(bound))
				u.add(id)
				want[id] = true
			}
			var exp []int32
			for id := range want {
				exp = append(exp, id)
			}
			slices.Sort(exp)
			if got := u.sorted(); !slices.Equal(got, exp) {
				t.Fatalf("bound %d, %d adds: %v, want %v", bound, adds, got, exp)
			}
			if bitmap := u.bits != nil; bitmap != (4*adds > (bound+63)/8) {
				t.Errorf("bound %d, %d adds: bitmap %v", bound, adds, bitmap)
			}
		}
	}
}
