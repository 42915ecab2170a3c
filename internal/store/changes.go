package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/engine"
)

// The change log and the in-process candidate cache.
//
// The database captures its own changes (migrations/0003_change_capture):
// triggers on every table a candidate snapshot reads (providers and their
// parentage, inventories, allocations, provider traits and aggregates)
// append one placement_changes row per touched provider, in the writer's
// own transaction, whoever the writer is: this service, the Python service
// on the same database, or SQL typed by hand. txid defaults to
// pg_current_xact_id(), the writer's transaction id. A row with a NULL
// provider id (a class, trait or aggregate renamed or deleted, a table
// truncated) invalidates the whole cache. The database also prunes the
// log (placement_changes_prune, with the same horizon as changeHorizon).
//
// candidateCache holds the data of every provider tree and the Snapshot
// built from it, and records the PostgreSQL snapshot S it reflects.
//
// Claim: after a refresh in snapshot S, the cache equals the database as S
// sees it. Proof sketch, by induction over refreshes. A full load reads
// every table in S. Otherwise the cache equals the database in the previous
// refresh's snapshot P. A transaction T changes what S sees of some
// provider only if T is visible to S and invisible to P. Every transaction
// with an id below xmin(P) had ended when P was taken, so a T invisible to
// P has txid >= xmin(P); precisely, it is in progress at P (txid in
// xip(P)) or began later (txid >= xmax(P)), and the refresh selects the
// rows of exactly those transactions (two index lookups on txid).
// T's triggers logged its providers in the same transaction, so its rows
// are visible to S exactly when its other effects are. The refresh
// reloads, in S, the whole trees of every logged provider: the tree the
// cache had it in and the tree S has it in (a moved subtree logs all its
// providers), so no provider is left in a stale tree. Providers no such T
// touched are the same in P and S. Re-reading an already applied change is
// harmless.
//
// The claim needs the capture: every statement that asks whether the
// cache is current also counts the capture triggers, in the same snapshot.
// When one is missing or disabled the cache is dropped, the problem is
// logged once, and candidates are loaded from the database per request
// (loadCandidateSnapshot) until the triggers are back; the first refresh
// after that is a full load.
//
// Pruning must never delete a row a later refresh needs. The pruner
// deletes rows with txid < X, where X = xmin of a snapshot taken at a
// database time T_X with T_X <= statement_timestamp() - horizon of the
// DELETE (checked in the DELETE itself). Snapshot xmins never decrease
// over time. A reader uses P incrementally only if the clock_timestamp()
// of its own first statement, which is after its snapshot, is less than
// horizon after now() of P's transaction, which is before P. So any DELETE
// visible to the reader committed before its snapshot, hence T_X < time of
// P, X <= xmin(P), and every row the reader selects survived. An older
// cache does a full reload.
//
// A published snapshot is never modified: a refresh builds a new one
// (engine.Snapshot.Update shares the unchanged parts) and swaps the
// pointer, so concurrent requests read without locks.

// changeHorizon is how long the database keeps change rows (the interval
// in placement_changes_prune); a cache refreshed longer ago reloads
// everything.
const changeHorizon = 15 * time.Minute

// captureTriggers is the number of placement_capture_* triggers that
// migrations/0003_change_capture.up.sql creates.
const captureTriggers = 29

// errNoCapture says the change capture is missing or disabled: the cache
// cannot be trusted.
var errNoCapture = errors.New("change capture triggers missing or disabled")

// cacheView is one published, immutable state of the cache.
type cacheView struct {
	snap    *engine.Snapshot
	pgSnap  string    // pg_current_snapshot() of the refresh, as text
	txStart time.Time // now() of the refresh transaction (before its snapshot)
	began   time.Time // local clock before the refresh began
}

// candidateCache is the in-process cache of candidate snapshot data; see
// the comment at the top of this file.
type candidateCache struct {
	cur     atomic.Pointer[cacheView] // the published view; nil before the first load
	horizon time.Duration

	// refreshing holds a token while a refresh runs: it serialises
	// refreshes and guards trees and rootOf. A channel rather than a
	// mutex, so that a request whose client left or whose deadline passed
	// stops waiting for another request's refresh.
	refreshing chan struct{}
	trees      map[int32][]engine.ProviderData // root id -> the tree, ascending id
	rootOf     map[int32]int32                 // provider id -> root id

	// lost counts the times the capture was found missing; a refresh
	// that began before the latest publishes nothing.
	lost atomic.Int64
	// broken is whether the capture was last seen missing (for logging
	// each change of state once).
	broken atomic.Bool
}

func newCandidateCache() *candidateCache {
	return &candidateCache{horizon: changeHorizon, refreshing: make(chan struct{}, 1)}
}

// captureSQL counts the enabled capture triggers (a catalog scan of a few
// dozen rows).
const captureSQL = `(SELECT count(*) FROM pg_trigger
	WHERE tgname LIKE 'placement\_capture\_%' AND tgenabled IN ('O', 'A'))`

// checkSQL is the one query of an unchanged cache: the name checks of the
// request, whether the capture is in place, and whether any transaction
// invisible to the cache's snapshot logged a change, in one statement (one
// snapshot). The transactions invisible to a snapshot are exactly those
// from its xmax on ($1) and those in progress when it was taken (its xip
// list, $4, usually empty: then checkSQL leaves that test out). Both tests
// are index lookups on txid whatever the plan, so the cost depends neither
// on the size of the change log nor on how far a long transaction
// elsewhere holds xmin back. (max() is an index lookup in any plan;
// "txid >= $x" in a cached generic plan would be a sequential scan.)
const (
	checkSQL = `
SELECT clock_timestamp(), ` + captureSQL + `,
	COALESCE((SELECT max(txid) FROM placement_changes) >= $1::text::xid8, false),
	ARRAY(SELECT name FROM resource_classes WHERE name = ANY($2)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($3))`
	checkInProgressSQL = `
SELECT clock_timestamp(), ` + captureSQL + `,
	COALESCE((SELECT max(txid) FROM placement_changes) >= $1::text::xid8, false)
	OR EXISTS (SELECT 1 FROM unnest($4::text[]::xid8[]) x(txid)
	           WHERE EXISTS (SELECT 1 FROM placement_changes c WHERE c.txid = x.txid)),
	ARRAY(SELECT name FROM resource_classes WHERE name = ANY($2)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($3))`
)

// splitSnapshot returns the xmax and the xip list of a pg_snapshot in its
// text form "xmin:xmax:xip,xip,...".
func splitSnapshot(snap string) (xmax string, xip []string) {
	parts := strings.SplitN(snap, ":", 3)
	if len(parts) != 3 {
		return snap, nil // not a snapshot: the cast in SQL reports it
	}
	if parts[2] != "" {
		xip = strings.Split(parts[2], ",")
	}
	return parts[1], xip
}

// refreshSQL starts a refresh transaction: its snapshot, times, whether
// the capture is in place, and the providers logged by transactions
// invisible to the previous snapshot ($1; NULL for none: then nothing is
// selected and the caller loads everything).
const refreshSQL = `
WITH unseen AS (
	SELECT resource_provider_id FROM placement_changes WHERE txid >= pg_snapshot_xmax($1::text::pg_snapshot)
	UNION ALL
	SELECT resource_provider_id FROM placement_changes
	WHERE txid = ANY(ARRAY(SELECT pg_snapshot_xip($1::text::pg_snapshot)))
)
SELECT pg_current_snapshot()::text, now(), clock_timestamp(), ` + captureSQL + `,
	COALESCE((SELECT bool_or(resource_provider_id IS NULL) FROM unseen), false),
	ARRAY(SELECT DISTINCT resource_provider_id FROM unseen WHERE resource_provider_id IS NOT NULL)`

// snapshot returns a candidate snapshot that reflects every transaction
// committed before the call, and the names among classes and traits that
// exist; errNoCapture when the change capture is not in place.
func (c *candidateCache) snapshot(ctx context.Context, s *Store, classes, traits []string) (*engine.Snapshot, []string, []string, error) {
	start := time.Now()
	cur := c.cur.Load()
	var foundClasses, foundTraits []string
	if cur != nil {
		var clock time.Time
		var captured int
		var changed bool
		scan := []any{&clock, &captured, &changed, &foundClasses, &foundTraits}
		var err error
		if xmax, xip := splitSnapshot(cur.pgSnap); len(xip) == 0 {
			err = s.db.QueryRow(ctx, checkSQL, xmax, classes, traits).Scan(scan...)
		} else {
			err = s.db.QueryRow(ctx, checkInProgressSQL, xmax, classes, traits, xip).Scan(scan...)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if !c.captureOK(s, captured) {
			return nil, nil, nil, errNoCapture
		}
		if !changed && clock.Sub(cur.txStart) < c.horizon {
			return cur.snap, foundClasses, foundTraits, nil
		}
	} else {
		err := s.db.QueryRow(ctx, `SELECT ARRAY(SELECT name FROM resource_classes WHERE name = ANY($1)),
			ARRAY(SELECT name FROM traits WHERE name = ANY($2))`, classes, traits).Scan(&foundClasses, &foundTraits)
		if err != nil {
			return nil, nil, nil, err
		}
	}
	view, err := c.refreshed(ctx, s, start)
	if err != nil {
		return nil, nil, nil, err
	}
	return view.snap, foundClasses, foundTraits, nil
}

// captureOK reports whether captured is the full set of capture triggers.
// When it is not, it drops the cache; either way it logs a change of
// state once.
func (c *candidateCache) captureOK(s *Store, captured int) bool {
	if captured == captureTriggers {
		if c.broken.CompareAndSwap(true, false) {
			s.logger().Warn("candidate cache: change capture is back; the cache reloads from the database")
		}
		return true
	}
	c.lost.Add(1)
	c.cur.Store(nil)
	if c.broken.CompareAndSwap(false, true) {
		s.logger().Error("candidate cache: change capture triggers are missing or disabled; allocation candidates are loaded from the database on every request until `placement-manage db sync` restores them",
			"enabled", captured, "expected", captureTriggers)
	}
	return false
}

// refreshed returns a view whose snapshot was taken after start, waiting
// for a concurrent refresh or running one.
func (c *candidateCache) refreshed(ctx context.Context, s *Store, start time.Time) (*cacheView, error) {
	select {
	case c.refreshing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.refreshing }()
	// Another request may have refreshed since this one started: its view
	// then reflects everything committed before this request.
	if cur := c.cur.Load(); cur != nil && cur.began.After(start) {
		return cur, nil
	}
	view, err := c.refresh(ctx, s)
	if err != nil {
		return nil, err
	}
	return view, nil
}

// refresh brings the cache to a new snapshot and returns it; the caller
// holds the refreshing token.
// It takes two round trips: BEGIN with the change query, then the loads
// with COMMIT. (On an error the connection is left inside the
// transaction, and the pool closes rather than reuses it.)
func (c *candidateCache) refresh(ctx context.Context, s *Store) (*cacheView, error) {
	began := time.Now()
	lost := c.lost.Load()
	cur := c.cur.Load()
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var prev *string
	if cur != nil {
		prev = &cur.pgSnap
	}
	var (
		pgSnap         string
		txStart, clock time.Time
		captured       int
		invalidateAll  bool
		changed        []int32
		b              pgx.Batch
	)
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	// A custom plan: with the snapshot's xmax known the planner uses the
	// txid index.
	b.Queue(`SET LOCAL plan_cache_mode = force_custom_plan`)
	b.Queue(refreshSQL, prev).QueryRow(func(row pgx.Row) error {
		return row.Scan(&pgSnap, &txStart, &clock, &captured, &invalidateAll, &changed)
	})
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	if !c.captureOK(s, captured) {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return nil, errNoCapture
	}
	full := cur == nil || invalidateAll || clock.Sub(cur.txStart) >= c.horizon ||
		len(changed) > max(1000, len(c.rootOf)/4)
	var snap *engine.Snapshot
	switch {
	case full:
		snap, err = c.loadAll(ctx, conn, "COMMIT")
	case len(changed) > 0:
		snap, err = c.loadChanged(ctx, conn, cur.snap, changed, "COMMIT")
	default:
		snap = cur.snap
		_, err = conn.Exec(ctx, "COMMIT")
	}
	if err != nil {
		return nil, err
	}
	view := &cacheView{snap: snap, pgSnap: pgSnap, txStart: txStart, began: began}
	// A request that found the capture missing while this refresh ran
	// dropped the cache; publishing would bring back a view that changes
	// made meanwhile may have missed. (The answer itself is still sound:
	// its snapshot saw the capture in place.)
	if c.lost.Load() == lost {
		c.cur.Store(view)
	}
	return view, nil
}

// loadAll reads every provider tree (then: statements for the same round
// trip, see loadProviderData).
func (c *candidateCache) loadAll(ctx context.Context, q batcher, then ...string) (*engine.Snapshot, error) {
	data, err := loadProviderData(ctx, q, nil, then...)
	if err != nil {
		return nil, err
	}
	c.trees = map[int32][]engine.ProviderData{}
	c.rootOf = make(map[int32]int32, len(data))
	for _, d := range data {
		root := int32(d.RootID)
		c.trees[root] = append(c.trees[root], d)
		c.rootOf[int32(d.ID)] = root
	}
	return c.build()
}

// build indexes the whole cache into a new snapshot.
func (c *candidateCache) build() (*engine.Snapshot, error) {
	all := make([]engine.ProviderData, 0, len(c.rootOf))
	nested := false
	for _, tree := range c.trees {
		all = append(all, tree...)
		nested = nested || len(tree) > 1
	}
	return engine.NewSnapshot(all, nested)
}

// loadChanged reloads the trees of the changed providers, old and new
// (then: statements for the same round trip, see loadProviderData).
func (c *candidateCache) loadChanged(ctx context.Context, q batcher, old *engine.Snapshot, changed []int32, then ...string) (*engine.Snapshot, error) {
	var oldRoots []int32
	for _, id := range changed {
		if r, ok := c.rootOf[id]; ok {
			oldRoots = append(oldRoots, r)
		}
	}
	data, err := loadProviderData(ctx, q, &treeSelection{roots: oldRoots, providers: changed}, then...)
	if err != nil {
		return nil, err
	}
	newTrees := map[int32][]engine.ProviderData{}
	for _, d := range data {
		root := int32(d.RootID)
		newTrees[root] = append(newTrees[root], d)
	}
	affected := map[int32]bool{}
	for _, r := range oldRoots {
		affected[r] = true
	}
	for r := range newTrees {
		affected[r] = true
	}
	// The index structure survives when every affected tree keeps its
	// members; then only inventories and usage may differ.
	sameShape := true
	for r := range affected {
		if !sameMembers(c.trees[r], newTrees[r]) {
			sameShape = false
		}
	}
	for r := range affected {
		for _, d := range c.trees[r] {
			delete(c.rootOf, int32(d.ID))
		}
		delete(c.trees, r)
	}
	for r, tree := range newTrees {
		c.trees[r] = tree
		for _, d := range tree {
			c.rootOf[int32(d.ID)] = r
		}
	}
	if sameShape {
		if snap, ok := old.Update(data); ok {
			return snap, nil
		}
	}
	return c.build()
}

func sameMembers(a, b []engine.ProviderData) bool {
	return slices.EqualFunc(a, b, func(x, y engine.ProviderData) bool { return x.ID == y.ID })
}

// treeSelection names the trees to load: the trees rooted at roots and the
// trees of providers.
type treeSelection struct {
	roots, providers []int32
}

// The snapshot loads: everything (a whole-table pass), or the trees of a
// selection ($1 roots, $2 providers; the roots CTE prefixes each query).
const (
	selectedRootsCTE = `
WITH sel AS (
	SELECT unnest($1::int4[]) AS id
	UNION
	SELECT COALESCE(root_provider_id, id) FROM resource_providers WHERE id = ANY($2::int4[])
), provs AS (
	SELECT rp.id FROM sel JOIN resource_providers rp ON rp.root_provider_id = sel.id
	UNION
	SELECT rp.id FROM sel JOIN resource_providers rp ON rp.id = sel.id WHERE rp.root_provider_id IS NULL
)`
	loadProvidersAllSQL = `
SELECT rp.id, rp.uuid, COALESCE(rp.parent_provider_id, 0), COALESCE(rp.root_provider_id, rp.id)
FROM resource_providers rp`
	loadProvidersSelSQL = selectedRootsCTE + `
SELECT rp.id, rp.uuid, COALESCE(rp.parent_provider_id, 0), COALESCE(rp.root_provider_id, rp.id)
FROM provs JOIN resource_providers rp ON rp.id = provs.id`
	loadInventoriesAllSQL = `
SELECT i.resource_provider_id, rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size,
	i.allocation_ratio, COALESCE(u.used, 0)
FROM inventories i
JOIN resource_classes rc ON rc.id = i.resource_class_id
LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used
           FROM allocations GROUP BY resource_provider_id, resource_class_id) u
  ON u.resource_provider_id = i.resource_provider_id AND u.resource_class_id = i.resource_class_id`
	loadInventoriesSelSQL = selectedRootsCTE + `
SELECT i.resource_provider_id, rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size,
	i.allocation_ratio,
	COALESCE((SELECT SUM(a.used) FROM allocations a
	          WHERE a.resource_provider_id = i.resource_provider_id
	            AND a.resource_class_id = i.resource_class_id), 0)
FROM provs
JOIN inventories i ON i.resource_provider_id = provs.id
JOIN resource_classes rc ON rc.id = i.resource_class_id`
	loadTraitsAllSQL = `
SELECT rpt.resource_provider_id, t.name
FROM resource_provider_traits rpt JOIN traits t ON t.id = rpt.trait_id`
	loadTraitsSelSQL = selectedRootsCTE + `
SELECT rpt.resource_provider_id, t.name
FROM provs
JOIN resource_provider_traits rpt ON rpt.resource_provider_id = provs.id
JOIN traits t ON t.id = rpt.trait_id`
	loadAggregatesAllSQL = `
SELECT rpa.resource_provider_id, pa.uuid
FROM resource_provider_aggregates rpa JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
WHERE pa.uuid IS NOT NULL`
	loadAggregatesSelSQL = selectedRootsCTE + `
SELECT rpa.resource_provider_id, pa.uuid
FROM provs
JOIN resource_provider_aggregates rpa ON rpa.resource_provider_id = provs.id
JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
WHERE pa.uuid IS NOT NULL`
)

// batcher sends batches: a pgx.Tx or a pooled connection.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// loadProviderData reads the providers of sel (nil: all) with their
// inventories (sorted by class), usage, traits and aggregates, in one
// round trip, followed by the statements then (e.g. COMMIT) in that same
// round trip; the result is sorted by id.
func loadProviderData(ctx context.Context, tx batcher, sel *treeSelection, then ...string) ([]engine.ProviderData, error) {
	b := &pgx.Batch{}
	if sel == nil {
		b.Queue(loadProvidersAllSQL)
		b.Queue(loadInventoriesAllSQL)
		b.Queue(loadTraitsAllSQL)
		b.Queue(loadAggregatesAllSQL)
	} else {
		// Custom plans (the default for the first executions, and often
		// after) would plan these four queries on every refresh, which
		// costs more than running them; generic plans are made once per
		// connection.
		b.Queue(`SET LOCAL plan_cache_mode = force_generic_plan`)
		for _, q := range []string{loadProvidersSelSQL, loadInventoriesSelSQL, loadTraitsSelSQL, loadAggregatesSelSQL} {
			b.Queue(q, sel.roots, sel.providers)
		}
	}
	for _, stmt := range then {
		b.Queue(stmt)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if sel != nil {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}

	var data []engine.ProviderData
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var id, parent, root int32
	var uuid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &uuid, &parent, &root}, func() error {
		data = append(data, engine.ProviderData{ID: int64(id), UUID: uuid, ParentID: int64(parent), RootID: int64(root)})
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(data, func(a, b engine.ProviderData) int { return int(a.ID - b.ID) })
	at := func(id int32) *engine.ProviderData {
		i, ok := slices.BinarySearchFunc(data, int64(id), func(d engine.ProviderData, id int64) int { return int(d.ID - id) })
		if !ok {
			return nil
		}
		return &data[i]
	}

	rows, err = br.Query()
	if err != nil {
		return nil, err
	}
	var inv engine.Inventory
	var used int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &inv.Class, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
		&inv.StepSize, &inv.AllocationRatio, &used}, func() error {
		if d := at(id); d != nil {
			inv.Used = used
			d.Inventories = append(d.Inventories, inv)
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
		if d := at(id); d != nil {
			d.Traits = append(d.Traits, name)
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
		if d := at(id); d != nil {
			d.Aggregates = append(d.Aggregates, name)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, stmt := range then {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	for i := range data {
		slices.SortFunc(data[i].Inventories, func(a, b engine.Inventory) int {
			switch {
			case a.Class < b.Class:
				return -1
			case a.Class > b.Class:
				return 1
			}
			return 0
		})
	}
	return data, br.Close()
}
