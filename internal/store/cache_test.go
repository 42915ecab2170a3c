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

// TestCandidateCache_UnloggedChange: a cache reloads everything when it
// was read from another origin (changes.go) or longer ago than the change
// log's horizon by this process's clock. Each case changes the database
// without a trace in the change log; where the cache learns only through
// tell, the test first checks that the cache still answers from before,
// which proves the change left no trace.
func TestCandidateCache_UnloggedChange(t *testing.T) {
	unlogged := func(t *testing.T, pool *pgxpool.Pool, reserve string) {
		execTx(t, pool, reserve, `DELETE FROM placement_changes WHERE txid = pg_current_xact_id()`)
	}
	for _, tc := range []struct {
		name string
		hide func(t *testing.T, pool *pgxpool.Pool, reserve string)
		tell func(s *store.Store) // nil: the change of origin is real
	}{
		// A failover to a lagging standby: the change rows of the
		// transactions the cache saw are gone.
		{"another server start", unlogged, func(s *store.Store) { s.CacheReadFromServerStartedForTest(time.Unix(0, 0)) }},
		{"a trigger enabled again", func(t *testing.T, pool *pgxpool.Pool, reserve string) {
			execTx(t, pool, `ALTER TABLE inventories DISABLE TRIGGER placement_capture_update`)
			execTx(t, pool, reserve)
			execTx(t, pool, `ALTER TABLE inventories ENABLE ALWAYS TRIGGER placement_capture_update`)
		}, nil},
		{"the change log truncated", func(t *testing.T, pool *pgxpool.Pool, reserve string) {
			execTx(t, pool, reserve, `TRUNCATE placement_changes`)
		}, nil},
		// The database's clock stepped back: the change log may have been
		// pruned past a cache that still looks young to it.
		{"old by this process's clock", unlogged, func(s *store.Store) { s.CacheAgedForTest(15 * time.Minute) }},
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
			tc.hide(t, pool, reserve)
			if tc.tell != nil {
				if n := candidates(); n != 1 {
					t.Fatalf("%d candidates after a change that left no trace, want the cached 1", n)
				}
				tc.tell(s)
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
