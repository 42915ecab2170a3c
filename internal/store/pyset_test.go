package store

import (
	"slices"
	"testing"
)

// The expectations are CPython 3 outputs of list(set(ids)).
func TestPythonIntSetOrder(t *testing.T) {
	for _, tc := range []struct {
		ids, want []int
	}{
		{nil, []int{}},
		{[]int{2, 10000}, []int{10000, 2}},
		{[]int{10000, 2, 2}, []int{10000, 2}},
		{[]int{8, 0}, []int{8, 0}},                                 // collision: 0 probes on to slot 1
		{[]int{0, 8}, []int{0, 8}},                                 // 8 probes from slot 0 to slot 1
		{[]int{0, 1, 2, 10000, 6, 5}, []int{0, 1, 2, 5, 6, 10000}}, // grown to 32 slots
		{[]int{10001, 10000, 1}, []int{10000, 10001, 1}},
	} {
		if got := pythonIntSetOrder(tc.ids); !slices.Equal(got, tc.want) {
			t.Errorf("pythonIntSetOrder(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
}
