package store_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// rpStore returns a store on a fresh seeded database, and its pool.
func rpStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	pool := testdb.Pool(t, 16)
	return store.New(pool), pool
}

func createRP(t *testing.T, s *store.Store, parent *string) store.Provider {
	t.Helper()
	u := uuid.NewString()
	p, err := s.CreateProvider(context.Background(), store.NewProvider{UUID: u, Name: u, ParentUUID: parent})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return p
}

// scaleSQL builds n root providers: each has 16 VCPU (max_unit 16); every
// even one has 10 VCPU used; every third has HW_CPU_X86_AVX; provider i is
// in aggregate i % 100.
const scaleSQL = `
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, created_at)
SELECT i, md5(i::text)::uuid::text, 'rp' || i, 0, i, now() AT TIME ZONE 'UTC' FROM generate_series(1, $1) i;
SELECT setval(pg_get_serial_sequence('resource_providers', 'id'), $1);
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at)
SELECT i, 0, 16, 0, 1, 16, 1, 1.0, now() AT TIME ZONE 'UTC' FROM generate_series(1, $1) i;
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at)
SELECT i, md5('c' || i)::uuid::text, 0, 10, now() AT TIME ZONE 'UTC' FROM generate_series(2, $1, 2) i;
INSERT INTO resource_provider_traits (trait_id, resource_provider_id, created_at)
SELECT t.id, i, now() AT TIME ZONE 'UTC' FROM generate_series(3, $1, 3) i, traits t WHERE t.name = 'HW_CPU_X86_AVX';
INSERT INTO placement_aggregates (id, uuid, created_at)
SELECT a, md5('agg' || a)::uuid::text, now() AT TIME ZONE 'UTC' FROM generate_series(0, 99) a;
INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at)
SELECT i, i % 100, now() AT TIME ZONE 'UTC' FROM generate_series(1, $1) i;
ANALYZE;`

// loadScale loads scaleSQL with PLACEMENT_SCALE_PROVIDERS providers
// (5,000 by default; rounded down to a multiple of 300) and returns how
// many.
func loadScale(tb testing.TB, pool *pgxpool.Pool) int {
	tb.Helper()
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("PLACEMENT_SCALE_PROVIDERS")); err == nil && v >= 100 {
		n = v - v%300
	}
	for _, stmt := range splitSQL(scaleSQL) {
		// Statements without a parameter do not take n.
		if _, err := pool.Exec(context.Background(), stmt, n); err != nil {
			if _, err2 := pool.Exec(context.Background(), stmt); err2 != nil {
				tb.Fatalf("%s: %v / %v", stmt, err, err2)
			}
		}
	}
	return n
}

// TestProvidersAtScale checks the list filters against many providers
// (5,000 by default, PLACEMENT_SCALE_PROVIDERS to change) and logs how long
// each took; speed is measured by placement-bench, not asserted here.
func TestProvidersAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s, pool := rpStore(t)
	ctx := context.Background()
	n := loadScale(t, pool)
	var agg7, agg8 string
	if err := pool.QueryRow(ctx, `SELECT md5('agg7')::uuid::text, md5('agg8')::uuid::text`).Scan(&agg7, &agg8); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.ProviderFilter
		want int
	}{
		{"all", store.ProviderFilter{}, n},
		{"resources fit only unused", store.ProviderFilter{Resources: []store.ResourceAmount{{Class: "VCPU", Amount: 7}}}, n / 2},
		{"resources fit all", store.ProviderFilter{Resources: []store.ResourceAmount{{Class: "VCPU", Amount: 6}}}, n},
		{"required trait", store.ProviderFilter{Required: [][]string{{"HW_CPU_X86_AVX"}}}, n / 3},
		{"forbidden trait", store.ProviderFilter{Forbidden: []string{"HW_CPU_X86_AVX"}}, n - n/3},
		{"any-of", store.ProviderFilter{Required: [][]string{{"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2"}}}, n / 3},
		{"member_of", store.ProviderFilter{MemberOf: [][]string{{agg7, agg8}}}, n / 50},
		{"not member_of", store.ProviderFilter{NotMemberOf: []string{agg7}}, n - n/100},
		{"everything", store.ProviderFilter{
			MemberOf:  [][]string{{agg7, agg8}},
			Forbidden: []string{"HW_CPU_X86_AVX2"},
			Resources: []store.ResourceAmount{{Class: "VCPU", Amount: 7}},
		}, n / 100},
	}
	for _, tt := range tests {
		start := time.Now()
		ps, err := s.Providers(ctx, tt.f)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(ps) != tt.want {
			t.Errorf("%s: %d providers, want %d", tt.name, len(ps), tt.want)
		}
		t.Logf("%s: %d providers in %v", tt.name, len(ps), took)
	}
}

func splitSQL(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestConcurrentReparentingNeverLoops moves two roots under each other at
// the same time, many times: never both may succeed.
func TestConcurrentReparentingNeverLoops(t *testing.T) {
	s, _ := rpStore(t)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		a, b := createRP(t, s, nil), createRP(t, s, nil)
		pairs := [][2]store.Provider{{a, b}, {b, a}}
		errs := testutil.Concurrently(len(pairs), func(i int) error {
			child, parent := pairs[i][0], pairs[i][1].UUID
			_, err := s.UpdateProvider(ctx, child.UUID, store.ProviderUpdate{
				Name: child.Name, SetParent: true, ParentUUID: &parent, AllowReparent: true})
			return err
		})
		if errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: both moves succeeded: a cycle", round)
		}
		for _, err := range errs {
			if err != nil && placement.KindOf(err) != placement.Invalid {
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		ra, _ := s.ProviderByUUID(ctx, a.UUID)
		rb, _ := s.ProviderByUUID(ctx, b.UUID)
		if ra.RootUUID != rb.RootUUID {
			t.Fatalf("round %d: different roots %s %s", round, ra.RootUUID, rb.RootUUID)
		}
	}
}

// TestReparentUpdatesSubtreeRoots moves a middle node to another tree.
func TestReparentUpdatesSubtreeRoots(t *testing.T) {
	s, _ := rpStore(t)
	ctx := context.Background()
	root := createRP(t, s, nil)
	mid := createRP(t, s, &root.UUID)
	leaf := createRP(t, s, &mid.UUID)
	other := createRP(t, s, nil)
	if _, err := s.UpdateProvider(ctx, mid.UUID, store.ProviderUpdate{Name: mid.Name, SetParent: true, ParentUUID: &other.UUID, AllowReparent: true}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ProviderByUUID(ctx, leaf.UUID)
	if got.RootUUID != other.UUID {
		t.Fatalf("leaf root %s, want %s", got.RootUUID, other.UUID)
	}
	// Without 1.37 the same move back is refused.
	_, err := s.UpdateProvider(ctx, mid.UUID, store.ProviderUpdate{Name: mid.Name, SetParent: true, ParentUUID: &root.UUID})
	if placement.KindOf(err) != placement.Invalid {
		t.Fatalf("re-parenting without permission: %v", err)
	}
}

// TestConcurrentTraitWritesOneWins sends the same generation from several
// writers: exactly one changes the set and bumps the generation once.
func TestConcurrentTraitWritesOneWins(t *testing.T) {
	s, _ := rpStore(t)
	ctx := context.Background()
	p := createRP(t, s, nil)
	sets := [][]string{{"HW_CPU_X86_AVX"}, {"HW_CPU_X86_AVX2"}, {"HW_CPU_X86_SSE"}, {"HW_CPU_X86_SSE2"}, {"HW_CPU_X86_VMX"}, {"HW_CPU_X86_MMX"}}
	errs := testutil.Concurrently(len(sets), func(i int) error {
		_, err := s.SetProviderTraits(ctx, p.UUID, 0, sets[i])
		return err
	})
	ok := winners(t, errs)
	got, err := s.ProviderTraits(ctx, p.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || got.Generation != 1 || len(got.Traits) != 1 {
		t.Fatalf("%d winners, generation %d, traits %v", ok, got.Generation, got.Traits)
	}
}

// winners counts the writes that succeeded and fails the test on any
// error other than a concurrent update.
func winners(t *testing.T, errs []error) int {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case placement.CodeOf(err) != placement.CodeConcurrentUpdate:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return ok
}

// TestConcurrentAggregateWritesOneWins does the same for 1.19 aggregates.
func TestConcurrentAggregateWritesOneWins(t *testing.T) {
	s, _ := rpStore(t)
	ctx := context.Background()
	p := createRP(t, s, nil)
	shared := uuid.NewString()
	errs := testutil.Concurrently(6, func(int) error {
		gen := 0
		_, err := s.SetProviderAggregates(ctx, p.UUID, []string{shared, uuid.NewString()}, &gen)
		return err
	})
	ok := winners(t, errs)
	gen, aggs, err := s.ProviderAggregates(ctx, p.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || gen != 1 || len(aggs) != 2 {
		t.Fatalf("%d winners, generation %d, aggregates %v", ok, gen, aggs)
	}
}

// TestReparent_DatabaseErrorIsNotBadRequest: when re-reading the new
// parent under the tree locks fails for a reason other than its absence
// (here an injected error; in the soak, PostgreSQL shutting down), the
// error reaches the caller as it is, not as the 400 "parent provider UUID
// does not exist."
func TestReparent_DatabaseErrorIsNotBadRequest(t *testing.T) {
	ctx := context.Background()
	s, _ := rpStore(t)
	oldRoot := createRP(t, s, nil).UUID
	child := createRP(t, s, &oldRoot).UUID
	newRoot := createRP(t, s, nil).UUID
	injected := errors.New("injected database failure")
	lookups := 0
	err := store.ReparentInjecting(ctx, s, child, newRoot, func(sql string, args []any) error {
		if len(args) == 1 && args[0] == newRoot {
			lookups++
			if lookups == 2 { // the re-read under the locks
				return injected
			}
		}
		return nil
	})
	if lookups < 2 {
		t.Fatalf("the new parent was looked up %d times; the test no longer reaches the re-read", lookups)
	}
	if !errors.Is(err, injected) || placement.KindOf(err) == placement.Invalid {
		t.Fatalf("reparent = %v (kind %v), want the injected error", err, placement.KindOf(err))
	}
}

// TestReparent_NewParentDeletedMeanwhile deletes the new parent in another
// transaction that commits while the move waits to reference it: the move
// answers that the parent does not exist (400), not a foreign key error.
func TestReparent_NewParentDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := rpStore(t)
	root := createRP(t, s, nil)
	parent := createRP(t, s, &root.UUID)
	moved := createRP(t, s, nil)
	err := whileDeleting(t, pool, `DELETE FROM resource_providers WHERE uuid = $1`, parent.UUID,
		"UPDATE resource_providers SET parent_provider_id%", func() error {
			_, err := s.UpdateProvider(ctx, moved.UUID, store.ProviderUpdate{Name: moved.Name, SetParent: true, ParentUUID: &parent.UUID, AllowReparent: true})
			return err
		})
	if placement.KindOf(err) != placement.Invalid || !strings.Contains(err.Error(), "parent provider UUID does not exist.") {
		t.Fatalf("move under a deleted parent = %v (kind %v), want the 400 for a missing parent", err, placement.KindOf(err))
	}
}

// TestSetProviderTraits_TraitDeletedMeanwhile deletes a trait in another
// transaction that commits while SetProviderTraits waits to reference it:
// the write answers a concurrent update (409; the client's retry then hears
// that the trait does not exist), not a foreign key error.
func TestSetProviderTraits_TraitDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := rpStore(t)
	rp := createRP(t, s, nil)
	trait := "CUSTOM_GOING_" + strings.ToUpper(uuid.NewString()[:8])
	if _, _, err := s.EnsureTrait(ctx, trait); err != nil {
		t.Fatal(err)
	}
	err := whileDeleting(t, pool, `DELETE FROM traits WHERE name = $1`, trait,
		"%INSERT INTO resource_provider_traits%", func() error {
			_, err := s.SetProviderTraits(ctx, rp.UUID, rp.Generation, []string{trait})
			return err
		})
	if placement.KindOf(err) != placement.Conflict || placement.CodeOf(err) != placement.CodeConcurrentUpdate {
		t.Fatalf("trait write under a deleted trait = %v (kind %v), want a 409 concurrent update", err, placement.KindOf(err))
	}
}

// whileDeleting runs del (with arg) in a transaction, then write, and
// commits the delete once a statement like waiting waits for its locks; it
// returns write's error.
func whileDeleting(t *testing.T, pool *pgxpool.Pool, del string, arg any, waiting string, write func() error) error {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, del, arg); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- write() }()
	waitForLockWait(t, pool, waiting)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// waitForLockWait waits until a statement of the test's database whose
// text is like the pattern waits for a lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool, like string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1)`, like).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement like %q waited for a lock", like)
		}
	}
}
