package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// The bulk loader writes the flat scenario straight into the database of a
// server the bench started, in a few set-based statements, where the API
// would need four requests per provider. It is for the bench only: it
// skips the API's validation and writes just the columns the service reads.
// The change-capture triggers see these writes like any other, so the
// server's cache picks them up on the next request.
const (
	bulkProvidersSQL = `
WITH ids AS (SELECT nextval('resource_providers_id_seq')::int AS id, g FROM generate_series(0, $1::int - 1) g)
INSERT INTO resource_providers (created_at, id, uuid, name, generation, root_provider_id)
SELECT now(), id, gen_random_uuid()::text, 'bench-' || $2 || '-flat-' || g, 1, id FROM ids`
	bulkInventoriesSQL = `
INSERT INTO inventories (created_at, resource_provider_id, resource_class_id, total, reserved,
	min_unit, max_unit, step_size, allocation_ratio)
SELECT now(), rp.id, rc.id, inv.total, 0, 1, inv.total, 1, 1.0
FROM resource_providers rp
CROSS JOIN (VALUES ('VCPU', 16), ('MEMORY_MB', 32768), ('DISK_GB', 1000)) inv(name, total)
JOIN resource_classes rc ON rc.name = inv.name
WHERE rp.name LIKE 'bench-' || $1 || '-flat-%'`
	bulkTraitsSQL = `
INSERT INTO resource_provider_traits (created_at, trait_id, resource_provider_id)
SELECT now(), t.id, rp.id
FROM resource_providers rp JOIN traits t ON t.name = 'HW_CPU_X86_AVX2'
WHERE rp.name LIKE 'bench-' || $1 || '-flat-%' AND split_part(rp.name, '-', 4)::int % 2 = 0`
	bulkAggregateSQL = `
WITH agg AS (INSERT INTO placement_aggregates (created_at, uuid) VALUES (now(), $2) RETURNING id)
INSERT INTO resource_provider_aggregates (created_at, resource_provider_id, aggregate_id)
SELECT now(), rp.id, agg.id FROM resource_providers rp, agg
WHERE rp.name LIKE 'bench-' || $1 || '-flat-%'`
	bulkProjectSQL = `INSERT INTO projects (created_at, external_id) VALUES (now(), $1)`
	bulkUserSQL    = `INSERT INTO users (created_at, external_id) VALUES (now(), $1)`
	// Consumer k takes VCPU 1 and MEMORY_MB 256 on the k-th provider
	// (cyclically).
	bulkConsumersSQL = `
INSERT INTO consumers (created_at, uuid, project_id, user_id, generation)
SELECT now(), gen_random_uuid()::text, p.id, u.id, 1
FROM generate_series(1, $1::int) g,
	(SELECT id FROM projects WHERE external_id = $2) p,
	(SELECT id FROM users WHERE external_id = $2) u`
	bulkAllocationsSQL = `
WITH provs AS (
	SELECT array_agg(id ORDER BY id) AS ids
	FROM resource_providers WHERE name LIKE 'bench-' || $1 || '-flat-%'
), cons AS (
	SELECT c.uuid, row_number() OVER (ORDER BY c.id) - 1 AS k
	FROM consumers c JOIN projects p ON p.id = c.project_id WHERE p.external_id = $2
)
INSERT INTO allocations (created_at, resource_provider_id, consumer_id, resource_class_id, used)
SELECT now(), provs.ids[1 + (cons.k % cardinality(provs.ids))::int], cons.uuid, rc.id, a.used
FROM provs, cons
CROSS JOIN (VALUES ('VCPU', 1), ('MEMORY_MB', 256)) a(name, used)
JOIN resource_classes rc ON rc.name = a.name`
)

// bulkLoadFlat writes n flat compute nodes (as loadFlat makes them) and
// allocations allocation rows (two per consumer, spread evenly) into the
// database at dbURL, in one transaction.
func bulkLoadFlat(ctx context.Context, dbURL string, n, allocations int) (*Dataset, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	run, agg, owner := testutil.RandHex(3), uuid.NewString(), "bench-"+testutil.RandHex(4)
	type step struct {
		sql  string
		args []any
	}
	steps := []step{
		{bulkProvidersSQL, []any{n, run}},
		{bulkInventoriesSQL, []any{run}},
		{bulkTraitsSQL, []any{run}},
		{bulkAggregateSQL, []any{run, agg}},
	}
	if allocations > 0 {
		steps = append(steps,
			step{bulkProjectSQL, []any{owner}},
			step{bulkUserSQL, []any{owner}},
			step{bulkConsumersSQL, []any{allocations / 2, owner}},
			step{bulkAllocationsSQL, []any{run, owner}})
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("bulk load: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := &Dataset{}
	rows, err := conn.Query(ctx, `SELECT uuid FROM resource_providers WHERE name LIKE 'bench-' || $1 || '-flat-%' ORDER BY id`, run)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		d.Providers = append(d.Providers, Provider{UUID: id})
	}
	// Settle the tables now rather than let autovacuum run during the
	// measurements (hundreds of thousands of new rows trigger it).
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	d.Query = "/allocation_candidates?resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&member_of=" + agg + "&required=HW_CPU_X86_AVX2"
	d.LimitQuery = d.Query + "&limit=5"
	return d, nil
}
