package store

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/candidate"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// Messages for unknown names in GET /allocation_candidates (spec 07 §3 step 8).
const (
	msgCandidateNoClass = "Invalid resource class in resources parameter: No such resource class %s."
	msgCandidateNoTrait = "No such trait(s): %s."
)

// candidateNames finds which of the request's classes and traits exist and
// reports the first unknown one in upstream's order: root_required traits,
// then per group its classes and then its traits.
const (
	candidateClassesSQL = `SELECT id, name FROM resource_classes WHERE name = ANY($1)`
	candidateTraitsSQL  = `SELECT name FROM traits WHERE name = ANY($1)`
	candidateNestedSQL  = `SELECT EXISTS (SELECT 1 FROM resource_providers WHERE parent_provider_id IS NOT NULL)`
)

// candidateRootsSQL selects the roots of every tree a request can touch:
// trees with an inventory of a requested class, the trees named by
// in_tree, and — for the sharing providers ($3: all of them when the
// request has a resourceless group, else those with a requested class) —
// their own trees and every tree with a provider in one of their
// aggregates (the trees they can be anchored to).
const candidateRootsSQL = `
WITH sharing AS (
	SELECT rpt.resource_provider_id AS id
	FROM resource_provider_traits rpt JOIN traits t ON t.id = rpt.trait_id
	WHERE t.name = 'MISC_SHARES_VIA_AGGREGATE'
	  AND ($3::boolean OR EXISTS (SELECT 1 FROM inventories i
	                     WHERE i.resource_provider_id = rpt.resource_provider_id
	                       AND i.resource_class_id = ANY($1)))
), members AS (
	SELECT id FROM sharing
	UNION
	SELECT b.resource_provider_id
	FROM resource_provider_aggregates a
	JOIN resource_provider_aggregates b ON b.aggregate_id = a.aggregate_id
	WHERE a.resource_provider_id IN (SELECT id FROM sharing)
	UNION
	SELECT DISTINCT resource_provider_id FROM inventories WHERE resource_class_id = ANY($1)
	UNION
	SELECT id FROM resource_providers WHERE uuid = ANY($2)
)
SELECT DISTINCT COALESCE(rp.root_provider_id, rp.id)
FROM resource_providers rp JOIN members m ON m.id = rp.id`

// The per-tree loads, run as one batch over the root ids ($1). The ids are
// joined through unnest (a hash join): "= ANY(array)" would compare every
// row with every element.
const (
	candidateProvidersSQL = `
SELECT rp.id, rp.uuid, COALESCE(rp.parent_provider_id, 0), COALESCE(rp.root_provider_id, rp.id)
FROM unnest($1::int4[]) AS r(id)
JOIN resource_providers rp ON COALESCE(rp.root_provider_id, rp.id) = r.id`
	candidateInventoriesSQL = `
WITH provs AS (
	SELECT rp.id FROM unnest($1::int4[]) AS r(id)
	JOIN resource_providers rp ON COALESCE(rp.root_provider_id, rp.id) = r.id
), used AS (
	SELECT a.resource_provider_id, a.resource_class_id, SUM(a.used) AS used
	FROM provs JOIN allocations a ON a.resource_provider_id = provs.id
	GROUP BY a.resource_provider_id, a.resource_class_id
)
SELECT i.resource_provider_id, rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size,
	i.allocation_ratio, COALESCE(u.used, 0)
FROM provs
JOIN inventories i ON i.resource_provider_id = provs.id
JOIN resource_classes rc ON rc.id = i.resource_class_id
LEFT JOIN used u ON u.resource_provider_id = i.resource_provider_id AND u.resource_class_id = i.resource_class_id`
	candidateTraitRowsSQL = `
SELECT rpt.resource_provider_id, t.name
FROM unnest($1::int4[]) AS r(id)
JOIN resource_providers rp ON COALESCE(rp.root_provider_id, rp.id) = r.id
JOIN resource_provider_traits rpt ON rpt.resource_provider_id = rp.id
JOIN traits t ON t.id = rpt.trait_id`
	candidateAggregateRowsSQL = `
SELECT rpa.resource_provider_id, pa.uuid
FROM unnest($1::int4[]) AS r(id)
JOIN resource_providers rp ON COALESCE(rp.root_provider_id, rp.id) = r.id
JOIN resource_provider_aggregates rpa ON rpa.resource_provider_id = rp.id
JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
WHERE pa.uuid IS NOT NULL`
)

// CandidateSnapshot checks the names the request uses and loads, in one
// read-only repeatable-read transaction and a fixed number of set-based
// queries, the provider trees relevant to it (see candidateRootsSQL) with
// their inventories, usage, traits and aggregates. Unknown classes and
// traits are 400 errors with upstream's messages.
func (s *Store) CandidateSnapshot(ctx context.Context, req *candidate.Request) (*candidate.Snapshot, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The unnest joins are badly estimated; JIT compilation would cost more
	// than the queries themselves.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return nil, err
	}

	classIDs, err := checkCandidateNames(ctx, tx, req)
	if err != nil {
		return nil, err
	}
	var inTrees []string
	resourceless := false
	for _, g := range req.Groups {
		if g.InTree != "" {
			inTrees = append(inTrees, g.InTree)
		}
		resourceless = resourceless || len(g.Resources) == 0
	}
	var nested bool
	if err := tx.QueryRow(ctx, candidateNestedSQL).Scan(&nested); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, candidateRootsSQL, classIDs, inTrees, resourceless)
	if err != nil {
		return nil, err
	}
	roots, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return candidate.NewSnapshot(nil, nested)
	}
	data, err := loadCandidateTrees(ctx, tx, roots)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return candidate.NewSnapshot(data, nested)
}

func checkCandidateNames(ctx context.Context, tx pgx.Tx, req *candidate.Request) ([]int32, error) {
	rows, err := tx.Query(ctx, candidateClassesSQL, req.Classes())
	if err != nil {
		return nil, err
	}
	classes := map[string]int32{}
	var id int32
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		classes[name] = id
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, candidateTraitsSQL, req.Traits())
	if err != nil {
		return nil, err
	}
	traits, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	checkTraits := func(names []string) error {
		for _, n := range names {
			if !slices.Contains(traits, n) {
				return placement.E(placement.Invalid, msgCandidateNoTrait, n)
			}
		}
		return nil
	}
	if err := checkTraits(req.RootRequired); err != nil {
		return nil, err
	}
	if err := checkTraits(req.RootForbidden); err != nil {
		return nil, err
	}
	var ids []int32
	for _, g := range req.Groups {
		for _, r := range g.Resources {
			id, ok := classes[r.Class]
			if !ok {
				return nil, placement.E(placement.Invalid, msgCandidateNoClass, r.Class)
			}
			ids = append(ids, id)
		}
		for _, set := range g.Required {
			if err := checkTraits(set); err != nil {
				return nil, err
			}
		}
		if err := checkTraits(g.Forbidden); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// loadCandidateTrees reads whole trees by root id in one batch (one round
// trip, four set-based queries).
func loadCandidateTrees(ctx context.Context, tx pgx.Tx, roots []int32) ([]candidate.ProviderData, error) {
	b := &pgx.Batch{}
	b.Queue(candidateProvidersSQL, roots)
	b.Queue(candidateInventoriesSQL, roots)
	b.Queue(candidateTraitRowsSQL, roots)
	b.Queue(candidateAggregateRowsSQL, roots)
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	var data []candidate.ProviderData
	index := map[int32]int{}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var id, parent, root int32
	var uuid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &uuid, &parent, &root}, func() error {
		index[id] = len(data)
		data = append(data, candidate.ProviderData{ID: int64(id), UUID: uuid, ParentID: int64(parent), RootID: int64(root)})
		return nil
	}); err != nil {
		return nil, err
	}

	rows, err = br.Query()
	if err != nil {
		return nil, err
	}
	var inv candidate.Inventory
	var used int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &inv.Class, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
		&inv.StepSize, &inv.AllocationRatio, &used}, func() error {
		if i, ok := index[id]; ok {
			inv.Used = used
			data[i].Inventories = append(data[i].Inventories, inv)
		}
		return nil
	}); err != nil {
		return nil, err
	}

	var name string
	rows, err = br.Query()
	if err != nil {
		return nil, err
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		if i, ok := index[id]; ok {
			data[i].Traits = append(data[i].Traits, name)
		}
		return nil
	}); err != nil {
		return nil, err
	}

	rows, err = br.Query()
	if err != nil {
		return nil, err
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		if i, ok := index[id]; ok {
			data[i].Aggregates = append(data[i].Aggregates, name)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return data, br.Close()
}
