package store_test

import (
	"context"
	"os"
	"strconv"
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
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("PLACEMENT_SCALE_PROVIDERS")); err == nil && v >= 100 {
		n = v - v%300
	}
	for _, stmt := range splitSQL(scaleSQL) {
		if _, err := pool.Exec(ctx, stmt, n); err != nil {
			if _, err2 := pool.Exec(ctx, stmt); err2 != nil {
				b.Fatalf("%s: %v / %v", stmt, err, err2)
			}
		}
	}
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
