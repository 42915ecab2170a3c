package store_test

import (
	"context"
	"fmt"
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

// TestCandidateCache_UnloggedChange: a cache reloads everything when it
// was read from another origin (changes.go) or longer ago than the change
// log's horizon by this process's clock. Each case changes the database
// without a trace in the change log; where the cache learns only through
// tell, the test first checks that the cache still answers from before,
// which proves the change left no trace.
func TestCandidateCache_UnloggedChange(t *testing.T) {
	// Each hide is one transaction; %[1]s is the write it hides.
	const unlogged = `%[1]s; DELETE FROM placement_changes WHERE txid = pg_current_xact_id()`
	for _, tc := range []struct {
		name, hide string
		tell       func(s *store.Store) // nil: the change of origin is real
	}{
		// A failover to a lagging standby: the change rows of the
		// transactions the cache saw are gone.
		{"another server start", unlogged, func(s *store.Store) { s.CacheReadFromServerStartedForTest(time.Unix(0, 0)) }},
		{"a trigger enabled again", `ALTER TABLE inventories DISABLE TRIGGER placement_capture_update; %[1]s;
			ALTER TABLE inventories ENABLE ALWAYS TRIGGER placement_capture_update`, nil},
		{"the change log truncated", `%[1]s; TRUNCATE placement_changes`, nil},
		// The database's clock stepped back: the change log may have been
		// pruned past a cache that still looks young to it.
		{"old by this process's clock", unlogged, func(s *store.Store) { s.CacheAgedForTest(15 * time.Minute) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.New(t)
			s := store.New(testdb.PoolOn(t, dsn, 4))
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
			// Without arguments, one simple-protocol query: one transaction.
			testdb.Exec(t, dsn, fmt.Sprintf(tc.hide, reserve))
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

// TestCandidateCache_HealsInconsistentTrees: when the cache's own trees
// do not make a snapshot (a bug: a provider in two trees), the refresh
// that finds out reloads everything and answers, rather than fail this
// and every later request.
func TestCandidateCache_HealsInconsistentTrees(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	s := store.New(testdb.PoolOn(t, dsn, 4))
	inv := placement.Inventory{Total: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 1}
	for _, name := range []string{"h1", "h2"} {
		rp, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetInventories(ctx, rp.UUID, 0, map[string]placement.Inventory{"VCPU": inv}); err != nil {
			t.Fatal(err)
		}
	}
	req, err := candidate.ParseQuery("resources=VCPU:1", microversion.Version{Major: 1, Minor: 39})
	if err != nil {
		t.Fatal(err)
	}
	if snap, _, err := s.CandidateSnapshot(ctx, req); err != nil || snap.Len() != 2 {
		t.Fatalf("warm: %v, %v", snap, err)
	}
	s.CacheDuplicateProviderForTest()
	// A provider below the highest id: the refresh must rebuild from its
	// trees.
	testdb.Exec(t, dsn, `INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, created_at)
		SELECT max(id) - 1000, '`+uuid.NewString()+`', 'h0', 0, max(id) - 1000, now() FROM resource_providers`)
	snap, _, err := s.CandidateSnapshot(ctx, req)
	if err != nil {
		t.Fatalf("after the trees came apart: %v", err)
	}
	if snap.Len() != 3 || s.CacheFullLoadsForTest() != 2 {
		t.Fatalf("%d providers after %d full loads, want 3 after 2", snap.Len(), s.CacheFullLoadsForTest())
	}
}

// TestWarmCandidateCache: warming loads the cache placement-api serves
// from, before any request; without the cache it does nothing.
func TestWarmCandidateCache(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	s := store.New(testdb.PoolOn(t, dsn, 4))
	for _, name := range []string{"w1", "w2"} {
		if _, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	s.CandidateCache = false
	if n, err := s.WarmCandidateCache(ctx); n != 0 || err != nil || s.CachedSnapshot() != nil {
		t.Fatalf("without the cache: %d, %v, snapshot %v", n, err, s.CachedSnapshot())
	}
	s.CandidateCache = true
	n, err := s.WarmCandidateCache(ctx)
	if err != nil || n != 2 {
		t.Fatalf("WarmCandidateCache = %d, %v; want 2 providers", n, err)
	}
	if snap := s.CachedSnapshot(); snap == nil || snap.Len() != 2 {
		t.Errorf("cached snapshot after warming = %v", snap)
	}
}

// TestKeepCandidateCacheYoung: a cache that nothing renews for the change
// log's horizon loads every provider on its next request; kept young, it
// does not, whether no request comes at all or requests keep coming with
// nothing written (their checks find nothing to apply, and must still
// take a new snapshot).
func TestKeepCandidateCacheYoung(t *testing.T) {
	t.Parallel()
	const horizon = 2 * time.Second
	ctx := context.Background()
	s := store.New(testdb.PoolOn(t, testdb.New(t), 4))
	s.CacheHorizonForTest(horizon)
	if _, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: "quiet"}); err != nil {
		t.Fatal(err)
	}
	req, err := candidate.ParseQuery("resources=VCPU:1", microversion.Version{Major: 1, Minor: 39})
	if err != nil {
		t.Fatal(err)
	}
	request := func() {
		t.Helper()
		if _, _, err := s.CandidateSnapshot(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	request()
	if n := s.CacheFullLoadsForTest(); n != 1 {
		t.Fatalf("%d full loads after the first request, want 1", n)
	}
	time.Sleep(horizon + 100*time.Millisecond)
	request()
	if n := s.CacheFullLoadsForTest(); n != 2 {
		t.Fatalf("%d full loads after a spell longer than the horizon, want 2 (the test cannot fail)", n)
	}

	keep, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.KeepCandidateCacheYoung(keep) }()
	defer func() { stop(); <-done }()
	time.Sleep(2 * horizon)
	request()
	for end := time.Now().Add(2 * horizon); time.Now().Before(end); time.Sleep(horizon / 10) {
		request()
	}
	if n := s.CacheFullLoadsForTest(); n != 2 {
		t.Fatalf("%d full loads with the cache kept young, want still 2", n)
	}
}
