package placement

import (
	"slices"
	"testing"
)

func TestConsumerAllocationsRows(t *testing.T) {
	allocs := map[string]map[string]int{"rp2": {"VCPU": 1, "DISK_GB": 2}, "rp1": {"MEMORY_MB": 3}}
	sorted := []AllocationKey{{"rp1", "MEMORY_MB"}, {"rp2", "DISK_GB"}, {"rp2", "VCPU"}}
	body := []AllocationKey{{"rp2", "VCPU"}, {"rp2", "DISK_GB"}, {"rp1", "MEMORY_MB"}}
	for _, tc := range []struct {
		name  string
		order []AllocationKey
		want  []AllocationKey
	}{
		{"no order: sorted", nil, sorted},
		{"body order", body, body},
	} {
		c := ConsumerAllocations{Allocations: allocs, Order: tc.order}
		if got := c.Rows(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Rows() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
