package main

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/engine"
)

func TestPlacementOptions_CandidateGeneration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		environ  []string
		max      int
		strategy engine.Strategy
	}{
		{"the defaults neither cap nor spread", nil, 0, engine.DepthFirst},
		{"a cap of 0 keeps one candidate, as upstream master does",
			[]string{"OS_PLACEMENT__MAX_ALLOCATION_CANDIDATES=0"}, 1, engine.DepthFirst},
		{"breadth-first with a cap",
			[]string{"OS_PLACEMENT__MAX_ALLOCATION_CANDIDATES=50", "OS_PLACEMENT__ALLOCATION_CANDIDATES_GENERATION_STRATEGY=breadth-first"},
			50, engine.BreadthFirst},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := config.Load(nil, c.environ)
			if err != nil {
				t.Fatal(err)
			}
			got := placementOptions(cfg)
			if got.MaxAllocationCandidates != c.max || got.AllocationCandidatesStrategy != c.strategy {
				t.Errorf("cap %d, strategy %d; want %d, %d", got.MaxAllocationCandidates, got.AllocationCandidatesStrategy, c.max, c.strategy)
			}
		})
	}
}

func TestPoolSize(t *testing.T) {
	for _, tc := range []struct {
		size, overflow int
		want           int32
	}{{5, 10, 15}, {5, 0, 5}, {20, 50, 70}, {5, -1, 105}, {0, 0, 1}} {
		if got := poolSize(tc.size, tc.overflow); got != tc.want {
			t.Errorf("poolSize(%d, %d) = %d, want %d", tc.size, tc.overflow, got, tc.want)
		}
	}
}
