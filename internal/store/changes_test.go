package store_test

import (
	"context"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestChangeLogPrune drives the database's own pruner: rows older than a
// mark taken at least the horizon ago go, newer rows stay, and a new mark
// is taken.
func TestChangeLogPrune(t *testing.T) {
	pool := testdb.Pool(t, 2)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	exec(`DELETE FROM placement_changes`)
	exec(`INSERT INTO placement_changes (resource_provider_id) VALUES (1), (2)`)
	// Marks name the first transaction after rows 1 and 2 (a snapshot's
	// xmin would also see other tests' transactions on the server).
	exec(`INSERT INTO placement_changes_marks
		SELECT (max(txid)::text::bigint + 1)::text::xid8, now() - interval '16 minutes' FROM placement_changes`)
	exec(`INSERT INTO placement_changes_marks
		SELECT min(txid), now() - interval '20 minutes' FROM placement_changes`)
	exec(`INSERT INTO placement_changes (resource_provider_id) VALUES (3)`)
	exec(`SELECT placement_changes_prune()`)
	if n := count(`SELECT count(*) FROM placement_changes`); n != 1 {
		t.Errorf("%d change rows after pruning, want 1 (the one after the mark)", n)
	}
	if n := count(`SELECT count(*) FROM placement_changes_marks`); n != 2 {
		t.Errorf("%d marks, want 2 (the one used and a new one)", n)
	}
	// A mark younger than the horizon prunes nothing.
	exec(`DELETE FROM placement_changes_marks`)
	exec(`INSERT INTO placement_changes_marks
		SELECT (max(txid)::text::bigint + 1)::text::xid8, now() - interval '14 minutes' FROM placement_changes`)
	exec(`SELECT placement_changes_prune()`)
	if n := count(`SELECT count(*) FROM placement_changes`); n != 1 {
		t.Errorf("%d change rows after pruning with a young mark, want 1", n)
	}
}
