package migrate_test

import (
	"context"
	"testing"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestCheckTrees_RepairsRootsAndReportsLoops builds what two concurrent
// moves in the Python service can leave: a child whose stored root is
// not its parent's root, a root stored under another root, and a parent
// loop. The check lists all three kinds; the repair fixes the first two
// and leaves the loop.
func TestCheckTrees_RepairsRootsAndReportsLoops(t *testing.T) {
	t.Parallel()
	dsn := testdb.Migrated(t)
	// 1 <- 2 <- 3 is a tree whose leaf 3 claims root 4; 4 is a root that
	// claims root 1; 5 <-> 6 is a loop.
	testdb.Exec(t, dsn, `
INSERT INTO resource_providers (id, uuid, name, generation, created_at) VALUES
	(1, '00000000-0000-0000-0000-000000000001', 'r1', 0, now()),
	(2, '00000000-0000-0000-0000-000000000002', 'c2', 0, now()),
	(3, '00000000-0000-0000-0000-000000000003', 'c3', 0, now()),
	(4, '00000000-0000-0000-0000-000000000004', 'r4', 0, now()),
	(5, '00000000-0000-0000-0000-000000000005', 'l5', 0, now()),
	(6, '00000000-0000-0000-0000-000000000006', 'l6', 0, now());
UPDATE resource_providers SET root_provider_id = 1 WHERE id IN (1, 2, 4);
UPDATE resource_providers SET parent_provider_id = 1 WHERE id = 2;
UPDATE resource_providers SET parent_provider_id = 2, root_provider_id = 4 WHERE id = 3;
UPDATE resource_providers SET parent_provider_id = 6, root_provider_id = 5 WHERE id = 5;
UPDATE resource_providers SET parent_provider_id = 5, root_provider_id = 5 WHERE id = 6;`)
	ctx := context.Background()
	uuid := func(n int) string { return "00000000-0000-0000-0000-00000000000" + string(rune('0'+n)) }

	want := []migrate.TreeProblem{
		{UUID: uuid(3), StoredRoot: uuid(4), Root: uuid(1)},
		{UUID: uuid(4), StoredRoot: uuid(1), Root: uuid(4)},
		{UUID: uuid(5), StoredRoot: uuid(5)},
		{UUID: uuid(6), StoredRoot: uuid(5)},
	}
	for _, repair := range []bool{false, false, true} {
		got, err := migrate.CheckTrees(ctx, dsn, repair)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("CheckTrees(repair %v) = %v, want %v", repair, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("CheckTrees(repair %v)[%d] = %+v, want %+v", repair, i, got[i], want[i])
			}
		}
	}
	got, err := migrate.CheckTrees(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].UUID != uuid(5) || got[1].UUID != uuid(6) {
		t.Errorf("after the repair: %+v, want only the loop of 5 and 6", got)
	}
}
