package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/engine"
)

// treeSelection names the trees to load: the trees rooted at roots and the
// trees of providers, or, with since set, the trees the providers logged in
// the change log after that PostgreSQL snapshot (text form) are in now;
// with alone (and since) set, those logged providers alone.
type treeSelection struct {
	roots, providers []int32
	since            string
	alone            bool
}

// The snapshot loads: everything (a whole-table pass), or the trees of a
// selection. A selection's queries start with the CTE sel (the roots of
// the trees: from $1 roots and $2 providers, or from the change log since
// the snapshot $1) and then provsCTE (every provider of those trees).
const (
	selByIDsCTE = `
WITH sel AS (
	SELECT unnest($1::int4[]) AS id
	UNION
	SELECT COALESCE(root_provider_id, id) FROM resource_providers WHERE id = ANY($2::int4[])
)`
	// The roots of the providers logged by transactions $1 did not see
	// (unseenSQL), each once: provsCTE joins every provider of a tree to
	// each row of sel, so a root left once per change made a tree of
	// 5,000 providers created in one transaction (10,000 changes) 50
	// million rows, 10 s for each load. Deduplicated after the array: a
	// generic plan guesses a third of the change log for the txid range,
	// and sized a hash table inside (DISTINCT, UNION) for 50,000 rows
	// after a bulk load (3.5 ms for six trees); an array it guesses at
	// ten elements.
	selByChangesCTE = `
WITH sel AS (
	SELECT DISTINCT id FROM unnest(ARRAY(
		SELECT COALESCE(rp.root_provider_id, rp.id)
		FROM (` + unseenSQL + `) unseen
		JOIN resource_providers rp ON rp.id = unseen.resource_provider_id)) AS id
)`
	// The providers logged by transactions $1 did not see, alone (their
	// trees are not loaded), each once (see selByChangesCTE).
	aloneByChangesCTE = `
WITH provs AS (
	SELECT DISTINCT id FROM unnest(ARRAY(
		SELECT resource_provider_id FROM (` + unseenSQL + `) unseen
		WHERE resource_provider_id IS NOT NULL)) AS id
)`
	provsCTE = `, provs AS (
	SELECT rp.id FROM sel JOIN resource_providers rp ON rp.root_provider_id = sel.id
	UNION
	SELECT rp.id FROM sel JOIN resource_providers rp ON rp.id = sel.id WHERE rp.root_provider_id IS NULL
)`
	loadProvidersAllSQL = `
SELECT rp.id, rp.uuid, COALESCE(rp.parent_provider_id, 0), COALESCE(rp.root_provider_id, rp.id)
FROM resource_providers rp`
	loadProvidersSel = `
SELECT rp.id, rp.uuid, COALESCE(rp.parent_provider_id, 0), COALESCE(rp.root_provider_id, rp.id)
FROM provs JOIN resource_providers rp ON rp.id = provs.id`
	loadInventoriesAllSQL = `
SELECT i.resource_provider_id, rc.name, i.resource_class_id, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size,
	i.allocation_ratio, COALESCE(u.used, 0)
FROM inventories i
JOIN resource_classes rc ON rc.id = i.resource_class_id
LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used
           FROM allocations GROUP BY resource_provider_id, resource_class_id) u
  ON u.resource_provider_id = i.resource_provider_id AND u.resource_class_id = i.resource_class_id`
	loadInventoriesSel = `
SELECT i.resource_provider_id, rc.name, i.resource_class_id, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size,
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
	loadTraitsSel = `
SELECT rpt.resource_provider_id, t.name
FROM provs
JOIN resource_provider_traits rpt ON rpt.resource_provider_id = provs.id
JOIN traits t ON t.id = rpt.trait_id`
	loadAggregatesAllSQL = `
SELECT rpa.resource_provider_id, pa.uuid
FROM resource_provider_aggregates rpa JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
WHERE pa.uuid IS NOT NULL`
	loadAggregatesSel = `
SELECT rpa.resource_provider_id, pa.uuid
FROM provs
JOIN resource_provider_aggregates rpa ON rpa.resource_provider_id = provs.id
JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
WHERE pa.uuid IS NOT NULL`
)

// The four loads of every provider, and of a selection by ids or by
// changes, in the order loadProviderData reads them.
var (
	loadAllSQL          = []string{loadProvidersAllSQL, loadInventoriesAllSQL, loadTraitsAllSQL, loadAggregatesAllSQL}
	loadSelSQL          = providerLoads(selByIDsCTE + provsCTE)
	loadChangedSQL      = providerLoads(selByChangesCTE + provsCTE)
	loadAloneChangedSQL = providerLoads(aloneByChangesCTE)
)

// providerLoads returns the four loads of the providers of provs, a CTE
// that ends with one named provs.
func providerLoads(provs string) []string {
	var out []string
	for _, body := range []string{loadProvidersSel, loadInventoriesSel, loadTraitsSel, loadAggregatesSel} {
		out = append(out, provs+body)
	}
	return out
}

// batcher sends batches: a pgx.Tx or a pooled connection.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// loadProviderData reads the providers of sel (nil: all) with their
// inventories (sorted by class), usage, traits and aggregates, in one
// round trip, followed by the statements then (e.g. COMMIT) in that same
// round trip; the result is sorted by id. A selection is loaded with
// generic plans that probe indexes (genericNestedLoops).
func loadProviderData(ctx context.Context, tx batcher, sel *treeSelection, then ...string) ([]engine.ProviderData, error) {
	b := &pgx.Batch{}
	if sel != nil {
		// Planned once per connection, not on every refresh.
		b.Queue(genericNestedLoops)
	}
	queueLoads(b, sel)
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
	data, err := readLoads(br)
	if err != nil {
		return nil, err
	}
	for _, stmt := range then {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return data, br.Close()
}

// queueLoads queues the four queries of sel (nil: all) that readLoads
// reads.
func queueLoads(b *pgx.Batch, sel *treeSelection) {
	switch {
	case sel == nil:
		for _, q := range loadAllSQL {
			b.Queue(q)
		}
	case sel.since != "":
		loads := loadChangedSQL
		if sel.alone {
			loads = loadAloneChangedSQL
		}
		for _, q := range loads {
			b.Queue(q, sel.since)
		}
	default:
		for _, q := range loadSelSQL {
			b.Queue(q, sel.roots, sel.providers)
		}
	}
}

// readLoads reads the results of queueLoads: the providers, sorted by id,
// with their inventories sorted by class.
func readLoads(br pgx.BatchResults) ([]engine.ProviderData, error) {
	data, err := readProviders(br)
	if err != nil {
		return nil, err
	}
	at := func(id int32) *engine.ProviderData {
		i, ok := slices.BinarySearchFunc(data, int64(id), byID)
		if !ok {
			return nil
		}
		return &data[i]
	}
	if err := readInventories(br, at); err != nil {
		return nil, err
	}
	if err := readNames(br, at, func(d *engine.ProviderData, name string) { d.Traits = append(d.Traits, name) }); err != nil {
		return nil, err
	}
	if err := readNames(br, at, func(d *engine.ProviderData, name string) { d.Aggregates = append(d.Aggregates, name) }); err != nil {
		return nil, err
	}
	for i := range data {
		slices.SortFunc(data[i].Inventories, func(a, b engine.Inventory) int { return strings.Compare(a.Class, b.Class) })
	}
	return data, nil
}

// readProviders reads the providers query's rows, sorted by id.
func readProviders(br pgx.BatchResults) ([]engine.ProviderData, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var data []engine.ProviderData
	var id, parent, root int32
	var uuid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &uuid, &parent, &root}, func() error {
		data = append(data, engine.ProviderData{ID: int64(id), UUID: uuid, ParentID: int64(parent), RootID: int64(root)})
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(data, func(a, b engine.ProviderData) int { return int(a.ID - b.ID) })
	return data, nil
}

// readInventories adds the inventories query's rows, with their usage, to
// the providers at returns (rows of other providers are skipped).
func readInventories(br pgx.BatchResults, at func(int32) *engine.ProviderData) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var id int32
	var inv engine.Inventory
	var used int64
	_, err = pgx.ForEachRow(rows, []any{&id, &inv.Class, &inv.ClassID, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
		&inv.StepSize, &inv.AllocationRatio, &used}, func() error {
		if d := at(id); d != nil {
			inv.Used = used
			d.Inventories = append(d.Inventories, inv)
		}
		return nil
	})
	return err
}

// readNames hands each (provider id, name) row of the next query (traits
// or aggregates) to add, for the providers at returns.
func readNames(br pgx.BatchResults, at func(int32) *engine.ProviderData, add func(*engine.ProviderData, string)) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var id int32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		if d := at(id); d != nil {
			add(d, name)
		}
		return nil
	})
	return err
}
