package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// unseededDB returns a pool on a freshly migrated database that has not
// been seeded (testdb.New hands out seeded ones).
func unseededDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testdb.Migrated(t))
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

type row struct {
	ID        int32
	Name      string
	CreatedAt *time.Time
	UpdatedAt *time.Time
}

func rows(t *testing.T, db *pgxpool.Pool, table string) map[string]row {
	t.Helper()
	r, _ := db.Query(context.Background(), `SELECT id, name, created_at, updated_at FROM `+table)
	list, err := pgx.CollectRows(r, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	m := make(map[string]row, len(list))
	for _, x := range list {
		m[x.Name] = x
	}
	return m
}

func mustExec(t *testing.T, db *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func TestSeedStandard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := unseededDB(t)

	// Rows another release (or upstream) may have left: a custom class, a
	// standard trait this release does not know, a standard class that a
	// newer os-resource-classes placed elsewhere, and an id of ours taken by
	// another name. None of them may change or make seeding fail.
	old := "2001-02-03 04:05:06.789"
	mustExec(t, db, `INSERT INTO resource_classes (id, name, created_at) VALUES
		(10000, 'CUSTOM_GOLD', '`+old+`'),
		(500, 'VGPU', '`+old+`'),
		(3, 'FUTURE_CLASS', '`+old+`')`)
	mustExec(t, db, `INSERT INTO traits (name, created_at) VALUES
		('HW_FUTURE_TRAIT', '`+old+`'),
		('CUSTOM_RAID', '`+old+`'),
		('HW_CPU_X86_AVX2', '`+old+`')`)
	preClasses := rows(t, db, "resource_classes")
	preTraits := rows(t, db, "traits")

	start := time.Now().UTC().Add(-time.Second)
	if err := store.SeedStandard(ctx, db); err != nil {
		t.Fatalf("SeedStandard: %v", err)
	}
	end := time.Now().UTC().Add(time.Second)

	classes := rows(t, db, "resource_classes")
	checkKept(t, "resource class", preClasses, classes)
	for id, name := range placement.StandardResourceClasses {
		got, ok := classes[name]
		switch name {
		case "VGPU":
			if got.ID != 500 {
				t.Errorf("VGPU moved to id %d", got.ID)
			}
		case "PCI_DEVICE":
			if ok {
				t.Errorf("PCI_DEVICE inserted although its id 3 is taken: %+v", got)
			}
		default:
			if !ok || got.ID != int32(id) {
				t.Errorf("resource class %s = %+v, want id %d", name, got, id)
				continue
			}
			if got.CreatedAt == nil || got.CreatedAt.Before(start) || got.CreatedAt.After(end) || got.UpdatedAt != nil {
				t.Errorf("resource class %s timestamps = %v / %v, want now (UTC) / NULL", name, got.CreatedAt, got.UpdatedAt)
			}
		}
	}
	if want := len(placement.StandardResourceClasses) - 2 + len(preClasses); len(classes) != want {
		t.Errorf("%d resource classes, want %d", len(classes), want)
	}

	traits := rows(t, db, "traits")
	checkKept(t, "trait", preTraits, traits)
	for _, name := range placement.StandardTraits {
		got, ok := traits[name]
		if !ok {
			t.Errorf("trait %s missing", name)
			continue
		}
		if _, pre := preTraits[name]; !pre && (got.CreatedAt == nil || got.CreatedAt.Before(start) || got.CreatedAt.After(end)) {
			t.Errorf("trait %s created_at = %v, want now (UTC)", name, got.CreatedAt)
		}
	}
	if want := len(placement.StandardTraits) + 2; len(traits) != want {
		t.Errorf("%d traits, want %d", len(traits), want)
	}

	// A second seeding changes nothing and draws no sequence values.
	var lastID int64
	if err := db.QueryRow(ctx, `SELECT last_value FROM traits_id_seq`).Scan(&lastID); err != nil {
		t.Fatal(err)
	}
	if err := store.SeedStandard(ctx, db); err != nil {
		t.Fatalf("second SeedStandard: %v", err)
	}
	var lastID2 int64
	if err := db.QueryRow(ctx, `SELECT last_value FROM traits_id_seq`).Scan(&lastID2); err != nil {
		t.Fatal(err)
	}
	if lastID2 != lastID {
		t.Errorf("second SeedStandard advanced traits_id_seq from %d to %d", lastID, lastID2)
	}
	if lastID != int64(len(traits)) {
		t.Errorf("traits_id_seq = %d after inserting %d traits; ids were skipped", lastID, len(traits))
	}
	for table, before := range map[string]map[string]row{"resource_classes": classes, "traits": traits} {
		after := rows(t, db, table)
		if len(after) != len(before) {
			t.Errorf("second SeedStandard: %s has %d rows, want %d", table, len(after), len(before))
		}
		checkKept(t, "second SeedStandard: "+table, before, after)
	}
}

func TestSeedStandard_ConcurrentSeeders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := unseededDB(t)
	errs := testutil.Concurrently(6, func(int) error { return store.SeedStandard(ctx, db) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("SeedStandard %d: %v", i, err)
		}
	}
	if got := len(rows(t, db, "traits")); got != len(placement.StandardTraits) {
		t.Errorf("%d traits, want %d", got, len(placement.StandardTraits))
	}
	if got := len(rows(t, db, "resource_classes")); got != len(placement.StandardResourceClasses) {
		t.Errorf("%d resource classes, want %d", got, len(placement.StandardResourceClasses))
	}
}

// checkKept fails the test for each row of before that is missing or
// different in after.
func checkKept(t *testing.T, what string, before, after map[string]row) {
	t.Helper()
	for name, b := range before {
		if got := after[name]; !equalRow(got, b) {
			t.Errorf("%s %s changed: %+v → %+v", what, name, b, got)
		}
	}
}

func equalRow(a, b row) bool {
	eq := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.ID == b.ID && a.Name == b.Name && eq(a.CreatedAt, b.CreatedAt) && eq(a.UpdatedAt, b.UpdatedAt)
}
