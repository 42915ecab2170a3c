package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestCandidateCache_Origin: a cache read from another origin (changes.go)
// reloads everything. Each case changes the database behind the change
// log's back, so that only the origin can tell the cache; the check that
// the cache still answers from before proves the change left no trace.
func TestCandidateCache_Origin(t *testing.T) {
	for _, tc := range []struct {
		name string
		// hide changes the database without change rows; seen is whether
		// the origin tells.
		hide func(t *testing.T, pool *pgxpool.Pool, reserve string) (seen bool)
	}{
		{"another server start", func(t *testing.T, pool *pgxpool.Pool, reserve string) bool {
			// A failover to a lagging standby: the change rows of the
			// transactions the cache saw are gone.
			execTx(t, pool, reserve, `DELETE FROM placement_changes WHERE txid = pg_current_xact_id()`)
			return false
		}},
		{"a trigger enabled again", func(t *testing.T, pool *pgxpool.Pool, reserve string) bool {
			execTx(t, pool, `ALTER TABLE inventories DISABLE TRIGGER placement_capture_update`)
			execTx(t, pool, reserve)
			execTx(t, pool, `ALTER TABLE inventories ENABLE ALWAYS TRIGGER placement_capture_update`)
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			pool := testdb.Pool(t, 4)
			s := store.New(pool)
			rp, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: "origin"})
			if err != nil {
				t.Fatal(err)
			}
			inv := placement.Inventory{Total: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 1}
			if _, err := s.SetInventories(ctx, rp.UUID, 0, map[string]placement.Inventory{"VCPU": inv}); err != nil {
				t.Fatal(err)
			}
			req, err := candidate.ParseQuery("resources=VCPU:4", microversion.Version{Major: 1, Minor: 39})
			if err != nil {
				t.Fatal(err)
			}
			candidates := func() int {
				t.Helper()
				snap, _, err := s.CandidateSnapshot(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				res, err := engine.Generate(ctx, snap, req, engine.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return len(res.Requests)
			}
			if n := candidates(); n != 1 {
				t.Fatalf("%d candidates, want 1", n)
			}
			reserve := `UPDATE inventories SET reserved = 4
				WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = '` + rp.UUID + `')`
			if !tc.hide(t, pool, reserve) {
				if n := candidates(); n != 1 {
					t.Fatalf("%d candidates after a change that left no trace, want the cached 1", n)
				}
				s.CacheReadFromServerStartedForTest(time.Unix(0, 0))
			}
			if n := candidates(); n != 0 {
				t.Fatalf("%d candidates, want 0: the cache did not reload", n)
			}
		})
	}
}

// execTx runs stmts in one transaction.
func execTx(t *testing.T, pool *pgxpool.Pool, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
