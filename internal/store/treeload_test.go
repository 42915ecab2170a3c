package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestSelectedTreeLoadsProbeIndexes: the loads of a few trees, the
// queries of every cache refresh after a write (by ids, or by the change
// log since a snapshot, with the refresh query itself), reach the tables
// of all providers and the change log through their indexes only. At
// 1,000 providers, with the generic plan the refresh uses, the planner
// otherwise hashed sequential scans of the provider, inventory, trait and
// aggregate tables.
func TestSelectedTreeLoadsProbeIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t, 1)
	if _, err := pool.Exec(ctx, `
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id)
	SELECT n, gen_random_uuid()::text, 'rp' || n, 0, n FROM generate_series(1, 1000) n;
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio)
	SELECT n, c, 16, 0, 1, 16, 1, 1.0 FROM generate_series(1, 1000) n, generate_series(0, 2) c;
INSERT INTO allocations (resource_provider_id, resource_class_id, consumer_id, used)
	SELECT n, 0, gen_random_uuid()::text, 1 FROM generate_series(1, 1000) n;
INSERT INTO traits (name) VALUES ('CUSTOM_T');
INSERT INTO resource_provider_traits (resource_provider_id, trait_id)
	SELECT n, (SELECT id FROM traits WHERE name = 'CUSTOM_T') FROM generate_series(1, 1000) n;
INSERT INTO placement_aggregates (uuid) VALUES (gen_random_uuid()::text);
INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id)
	SELECT n, (SELECT max(id) FROM placement_aggregates) FROM generate_series(1, 1000) n;
ANALYZE`); err != nil {
		t.Fatal(err)
	}
	// The loads by change also read the change log, which the inserts
	// above filled from one transaction (after a bulk load, the
	// statistics say txid has one value).
	explain := []struct {
		queries []string
		params  string
		args    string
	}{
		{store.SelectedTreeLoadsForTest, "int4[], int4[]", "'{7}', '{8}'"},
		{store.ChangedTreeLoadsForTest, "text", "'1000:1000:990,995'"},
		{store.ChangedProviderLoadsForTest, "text", "'1000:1000:990,995'"},
		{[]string{store.RefreshForTest}, "text, text[], text[]", "'1000:1000:990', '{VCPU}', '{CUSTOM_T}'"},
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Any plan would be compiled were JIT left on: generic plans'
		// costs are guesses, and at 50,000 providers a load by change log
		// was compiled (392 ms) on every refresh.
		if _, err := tx.Exec(ctx, "SET LOCAL jit = on; SET LOCAL jit_above_cost = 0"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, store.GenericNestedLoopsForTest); err != nil {
			return err
		}
		for k, e := range explain {
			for i, q := range e.queries {
				// EXPLAIN EXECUTE: the plan of a prepared statement, the
				// generic one as the refresh makes it.
				name := fmt.Sprintf("load_%d_%d", k, i)
				if _, err := tx.Exec(ctx, "PREPARE "+name+"("+e.params+") AS "+q); err != nil {
					return err
				}
				rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+name+"("+e.args+")")
				if err != nil {
					return err
				}
				plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				// The capture check counts pg_trigger's rows: a catalog.
				text := strings.ReplaceAll(strings.Join(plan, "\n"), "Seq Scan on pg_trigger", "")
				if strings.Contains(text, "Seq Scan") {
					t.Errorf("%s\nscans a table:\n%s", q, text)
				}
				if strings.Contains(text, "JIT") {
					t.Errorf("%s\nis compiled:\n%s", q, text)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestChangedRoots_EachOnce: the roots of the trees changed since a
// snapshot come once each, however many changes a tree had. The loads
// join every provider of a tree to each of them: a tree of 5,000 providers
// created in one transaction made its root come 10,000 times, and each of
// the four loads took 10 s.
func TestChangedRoots_EachOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t, 1)
	var snapshot string
	if err := pool.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snapshot); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id)
	SELECT n, gen_random_uuid()::text, 'rp' || n, 0, 1 FROM generate_series(1, 300) n;
UPDATE resource_providers SET parent_provider_id = 1 WHERE id > 1;
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio)
	SELECT n, 0, 1, 0, 1, 1, 1, 1.0 FROM generate_series(1, 300) n;
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id)
	VALUES (301, gen_random_uuid()::text, 'other', 0, 301)`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, store.ChangedRootsForTest, snapshot)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(roots)
	if !slices.Equal(roots, []int32{1, 301}) {
		t.Fatalf("changed roots %v (%d), want [1 301]", roots[:min(len(roots), 10)], len(roots))
	}
}
