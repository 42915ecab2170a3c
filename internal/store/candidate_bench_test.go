package store_test

import (
	"context"
	"testing"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// BenchmarkCandidateSnapshot loads PLACEMENT_SCALE_PROVIDERS (default 5000)
// flat providers (scaleSQL) and measures the snapshot plus generation for a
// VCPU request, unlimited and with limit=5.
func BenchmarkCandidateSnapshot(b *testing.B) {
	ctx := context.Background()
	pool, err := store.Open(ctx, testdb.New(b), store.PoolOptions{MaxConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := store.SeedStandard(ctx, pool); err != nil {
		b.Fatal(err)
	}
	s := store.New(pool)
	loadScale(b, pool)
	for _, q := range []string{"resources=VCPU:1", "resources=VCPU:1&limit=5"} {
		b.Run(q, func(b *testing.B) {
			req, err := candidate.ParseQuery(q, microversion.Version{Major: 1, Minor: 39})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				snap, _, err := s.CandidateSnapshot(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				engine.Generate(ctx, snap, req, engine.Options{})
			}
		})
	}
}
