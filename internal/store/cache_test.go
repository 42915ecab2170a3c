package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestCandidateCache_ServerChange: a cache read from another start of the
// database server reloads everything. The test changes the database the
// way a failover to a lagging standby does, leaving no change rows, so
// only the server's start can tell the cache.
func TestCandidateCache_ServerChange(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t, 4)
	s := store.New(pool)
	rp, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: "server-change"})
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

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE inventories SET reserved = 4 WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = $1)`,
		`DELETE FROM placement_changes WHERE txid = pg_current_xact_id() AND $1::text IS NOT NULL`,
	} {
		if _, err := tx.Exec(ctx, q, rp.UUID); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := candidates(); n != 1 {
		t.Fatalf("%d candidates after a change that left no change rows, want the cached 1 (the test no longer hides the change)", n)
	}

	s.CacheReadFromServerStartedForTest(time.Unix(0, 0))
	if n := candidates(); n != 0 {
		t.Fatalf("%d candidates once the server is another, want 0: the cache did not reload", n)
	}
}
