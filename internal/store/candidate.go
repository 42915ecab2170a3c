package store

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/engine"
)

// CandidateNames are the resource classes and traits of a request (its
// Classes and Traits) that exist, in no particular order.
type CandidateNames struct {
	Classes []string
	Traits  []string
}

// complete reports whether every class and trait of req exists.
func (n CandidateNames) complete(req *engine.Request) bool {
	for _, c := range req.Classes() {
		if !slices.Contains(n.Classes, c) {
			return false
		}
	}
	for _, t := range req.Traits() {
		if !slices.Contains(n.Traits, t) {
			return false
		}
	}
	return true
}

const (
	candidateClassesSQL = `SELECT id, name FROM resource_classes WHERE name = ANY($1)`
	candidateTraitsSQL  = `SELECT name FROM traits WHERE name = ANY($1)`
	candidateNestedSQL  = `SELECT EXISTS (SELECT 1 FROM resource_providers WHERE parent_provider_id IS NOT NULL)`
	allRootsSQL         = `SELECT DISTINCT COALESCE(root_provider_id, id) FROM resource_providers`
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

// CandidateSnapshot returns the classes and traits of req that exist and a
// snapshot that reflects every write committed before the call. With
// CandidateCache that is the shared in-process snapshot of every provider
// tree (changes.go) while the database's change capture is in place.
// Otherwise it holds the provider trees relevant to the request (see
// candidateRootsSQL) with their inventories, usage, traits and aggregates,
// loaded in one read-only repeatable-read transaction with a fixed number
// of set-based queries; then it is nil when some name is unknown, as the
// caller rejects such a request.
//
// It only reads, so a lost connection, or a clash with a transaction
// pooler, makes it start again (at most connRetries times).
func (s *Store) CandidateSnapshot(ctx context.Context, req *engine.Request) (*engine.Snapshot, CandidateNames, error) {
	for attempt := 0; ; attempt++ {
		snap, names, err := s.candidateSnapshot(ctx, req)
		if err == nil || !rerun(ctx, attempt, err, rerunnable) {
			return snap, names, err
		}
	}
}

func (s *Store) candidateSnapshot(ctx context.Context, req *engine.Request) (*engine.Snapshot, CandidateNames, error) {
	if s.CandidateCache {
		snap, classes, traits, err := s.candidates.snapshot(ctx, s, req.Classes(), req.Traits())
		if errors.Is(err, errNoCapture) {
			return s.loadCandidateSnapshot(ctx, req)
		}
		if err != nil {
			return nil, CandidateNames{}, err
		}
		return snap, CandidateNames{Classes: classes, Traits: traits}, nil
	}
	return s.loadCandidateSnapshot(ctx, req)
}

// WarmCandidateCache loads the candidate cache now rather than on the
// first candidates request, and returns the number of providers it holds;
// 0 without the cache or without the change capture (requests then load
// from the database).
func (s *Store) WarmCandidateCache(ctx context.Context) (int, error) {
	if !s.CandidateCache {
		return 0, nil
	}
	snap, _, _, err := s.candidates.snapshot(ctx, s, nil, nil)
	if errors.Is(err, errNoCapture) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return snap.Len(), nil
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
// out can host none. It is never nil, even when a name of req is unknown:
// the explanation may still be asked for (the real endpoint can answer
// such a request with no candidates).
func (s *Store) ExplainSnapshot(ctx context.Context, req *engine.Request, explain string) (*engine.Snapshot, CandidateNames, error) {
	snap, names, err := s.CandidateSnapshot(ctx, req)
	if err != nil {
		return nil, names, err
	}
	if snap != nil {
		if _, ok := snap.ProviderByUUID(explain); explain == "" || ok {
			return snap, names, nil
		}
	}
	var also []string
	if explain != "" {
		also = []string{explain}
	}
	for attempt := 0; ; attempt++ {
		snap, names, err := s.loadSnapshot(ctx, req, true, also...)
		if err == nil || !rerun(ctx, attempt, err, rerunnable) {
			return snap, names, err
		}
	}
}

// loadCandidateSnapshot loads the trees relevant to req; nil when a name
// of req is unknown (the request fails).
func (s *Store) loadCandidateSnapshot(ctx context.Context, req *engine.Request) (*engine.Snapshot, CandidateNames, error) {
	return s.loadSnapshot(ctx, req, false)
}

// loadSnapshot loads the trees relevant to req, and those of the
// providers with uuids also. With anyNames it loads them even when a name
// of req is unknown (a class no provider has); otherwise it then loads
// nothing and returns nil.
func (s *Store) loadSnapshot(ctx context.Context, req *engine.Request, anyNames bool, also ...string) (*engine.Snapshot, CandidateNames, error) {
	var names CandidateNames
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, names, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The unnest joins are badly estimated; JIT compilation would cost more
	// than the queries themselves.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return nil, names, err
	}

	names, classIDs, err := candidateNames(ctx, tx, req)
	if err != nil || (!anyNames && !names.complete(req)) {
		return nil, names, err // the request fails: load nothing
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
		return nil, names, err
	}
	query, args := candidateRootsSQL, []any{classIDs, inTrees, resourceless}
	if len(classIDs) == 0 {
		// Only resourceless groups: any provider may serve them. A real
		// request names a class; such a one is the short-circuit check
		// of an unknown name, asking whether an earlier group alone has
		// candidates.
		query, args = allRootsSQL, nil
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, names, err
	}
	roots, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, names, err
	}
	if len(roots) == 0 {
		snap, err := engine.NewSnapshot(nil, nested)
		return snap, names, err
	}
	data, err := loadProviderData(ctx, tx, &treeSelection{roots: roots})
	if err != nil {
		return nil, names, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, names, err
	}
	snap, err := engine.NewSnapshot(data, nested)
	return snap, names, err
}

// candidateNames finds which of the request's classes and traits exist,
// and the ids of the classes of every group (0 for an unknown one).
func candidateNames(ctx context.Context, tx pgx.Tx, req *engine.Request) (CandidateNames, []int32, error) {
	var names CandidateNames
	rows, err := tx.Query(ctx, candidateClassesSQL, withoutNUL(req.Classes()))
	if err != nil {
		return names, nil, err
	}
	classes := map[string]int32{}
	var id int32
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		classes[name] = id
		names.Classes = append(names.Classes, name)
		return nil
	}); err != nil {
		return names, nil, err
	}
	rows, err = tx.Query(ctx, candidateTraitsSQL, withoutNUL(req.Traits()))
	if err != nil {
		return names, nil, err
	}
	if names.Traits, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return names, nil, err
	}
	var ids []int32
	for _, g := range req.Groups {
		for _, r := range g.Resources {
			ids = append(ids, classes[r.Class])
		}
	}
	return names, ids, nil
}

// treesInAggSetsSQL asks whether some provider is in at least one
// aggregate of each set ($1 the uuids, $2 the number of each one's set, $3
// the number of sets), where a provider is in an aggregate when it or its
// root is (the member_of rule of a candidate group, spec 07 §2.3). One
// statement whatever the number of sets, as aggSetsSQL (provider.go).
const treesInAggSetsSQL = `SELECT EXISTS (SELECT 1 FROM (
	SELECT rpa.resource_provider_id AS id, want.term FROM resource_provider_aggregates rpa
	JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
	JOIN unnest($1::text[], $2::integer[]) AS want(uuid, term) ON want.uuid = pa.uuid) m
	JOIN resource_providers rp ON m.id IN (rp.id, rp.root_provider_id)
	GROUP BY rp.id HAVING count(DISTINCT m.term) = $3)`

// MemberOfMatchesNothing reports whether no provider satisfies memberOf,
// a list of any-of aggregate sets that are ANDed, where a provider is in
// an aggregate when it or its root is.
func (s *Store) MemberOfMatchesNothing(ctx context.Context, memberOf [][]string) (bool, error) {
	if len(memberOf) == 0 {
		return false, nil
	}
	uuids, terms, n := numbered(memberOf)
	var some bool
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, treesInAggSetsSQL, uuids, terms, n).Scan(&some)
	})
	return !some, err
}

const rootsWithTraitsSQL = `SELECT EXISTS (SELECT 1 FROM resource_providers rp
	WHERE rp.id = rp.root_provider_id
	AND (SELECT count(DISTINCT t.name) FROM resource_provider_traits rpt JOIN traits t ON t.id = rpt.trait_id
		WHERE rpt.resource_provider_id = rp.id AND t.name = ANY($1)) = coalesce(cardinality($1::text[]), 0)
	AND NOT EXISTS (SELECT 1 FROM resource_provider_traits rpt JOIN traits t ON t.id = rpt.trait_id
		WHERE rpt.resource_provider_id = rp.id AND t.name = ANY($2::text[])))`

// RootsMatchNothing reports whether no root provider has every trait of
// required and none of forbidden (root_required, spec 07 §2.6). The
// names must be distinct.
func (s *Store) RootsMatchNothing(ctx context.Context, required, forbidden []string) (bool, error) {
	var some bool
	err := s.db.QueryRow(ctx, rootsWithTraitsSQL, required, forbidden).Scan(&some)
	return !some, err
}
