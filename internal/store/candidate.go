package store

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/engine"
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

// CandidateSnapshot checks the names the request uses (unknown classes and
// traits are 400 errors with upstream's messages) and returns a snapshot
// that reflects every write committed before the call: with CandidateCache
// the shared in-process snapshot of every provider tree (changes.go) while
// the database's change capture is in place, else the provider trees relevant to the request (see candidateRootsSQL)
// with their inventories, usage, traits and aggregates, loaded in one
// read-only repeatable-read transaction with a fixed number of set-based
// queries.
//
// It only reads, so a lost connection makes it start again (at most
// connRetries times).
func (s *Store) CandidateSnapshot(ctx context.Context, req *engine.Request) (*engine.Snapshot, error) {
	for attempt := 0; ; attempt++ {
		snap, err := s.candidateSnapshot(ctx, req)
		if err == nil || !connLost(err) || attempt == connRetries || ctx.Err() != nil {
			return snap, err
		}
	}
}

func (s *Store) candidateSnapshot(ctx context.Context, req *engine.Request) (*engine.Snapshot, error) {
	if s.CandidateCache {
		snap, classes, traits, err := s.candidates.snapshot(ctx, s, req.Classes(), req.Traits())
		if errors.Is(err, errNoCapture) {
			return s.loadCandidateSnapshot(ctx, req)
		}
		if err != nil {
			return nil, err
		}
		if err := checkNames(req, classes, traits); err != nil {
			return nil, err
		}
		return snap, nil
	}
	return s.loadCandidateSnapshot(ctx, req)
}

// CachedSnapshot returns the candidate cache's current snapshot without
// asking the database whether it is still current: nil without the cache
// or before its first load. A caller may compute with it while
// CandidateSnapshot checks it, and keep the result if CandidateSnapshot
// then returns this very snapshot.
func (s *Store) CachedSnapshot() *engine.Snapshot {
	if !s.CandidateCache {
		return nil
	}
	if v := s.candidates.cur.Load(); v != nil {
		return v.snap
	}
	return nil
}

// ExplainSnapshot is CandidateSnapshot for explaining the request: its
// snapshot also holds the tree of the provider with uuid explain (if it
// exists), which adds no candidate: a tree that CandidateSnapshot leaves
// out can host none.
func (s *Store) ExplainSnapshot(ctx context.Context, req *engine.Request, explain string) (*engine.Snapshot, error) {
	snap, err := s.CandidateSnapshot(ctx, req)
	if err != nil || explain == "" {
		return snap, err
	}
	if _, ok := snap.ProviderByUUID(explain); ok {
		return snap, nil
	}
	for attempt := 0; ; attempt++ {
		snap, err := s.loadCandidateSnapshot(ctx, req, explain)
		if err == nil || !connLost(err) || attempt == connRetries || ctx.Err() != nil {
			return snap, err
		}
	}
}

// loadCandidateSnapshot loads the trees relevant to req, and those of the
// providers with uuids also.
func (s *Store) loadCandidateSnapshot(ctx context.Context, req *engine.Request, also ...string) (*engine.Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
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
	inTrees := slices.Clone(also)
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
		return engine.NewSnapshot(nil, nested)
	}
	data, err := loadProviderData(ctx, tx, &treeSelection{roots: roots})
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return engine.NewSnapshot(data, nested)
}

func checkCandidateNames(ctx context.Context, tx pgx.Tx, req *engine.Request) ([]int32, error) {
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
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	if err := checkNames(req, names, traits); err != nil {
		return nil, err
	}
	var ids []int32
	for _, g := range req.Groups {
		for _, r := range g.Resources {
			ids = append(ids, classes[r.Class])
		}
	}
	return ids, nil
}

// checkNames reports the first class or trait of req missing from the
// existing ones, in upstream's order: root_required traits, then per
// group its classes and then its traits.
func checkNames(req *engine.Request, classes, traits []string) error {
	checkTraits := func(names []string) error {
		for _, n := range names {
			if !slices.Contains(traits, n) {
				return placement.E(placement.Invalid, msgCandidateNoTrait, n)
			}
		}
		return nil
	}
	if err := checkTraits(req.RootRequired); err != nil {
		return err
	}
	if err := checkTraits(req.RootForbidden); err != nil {
		return err
	}
	for _, g := range req.Groups {
		for _, r := range g.Resources {
			if !slices.Contains(classes, r.Class) {
				return placement.E(placement.Invalid, msgCandidateNoClass, r.Class)
			}
		}
		for _, set := range g.Required {
			if err := checkTraits(set); err != nil {
				return err
			}
		}
		if err := checkTraits(g.Forbidden); err != nil {
			return err
		}
	}
	return nil
}
