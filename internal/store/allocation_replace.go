package store

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// The locked part of an allocation write: the replacement of the written
// consumers' rows, with the checks, under the locks of the providers and
// consumers it touches.
//
// The providers, then the written consumers, are locked (each in id order;
// the consumers after their rows, in the order DeleteAllocations takes the
// same locks, to avoid deadlocks) before usage is read, so concurrent
// claims on one provider queue up instead of failing each other's
// generation compare-and-swap. Under those locks the generations read are
// the ones the write bumps: no other transaction can change them before
// this one ends, and a writer that does not take the locks first (an
// inventory change, the Python service) finds its own compare-and-swap
// missed. So once the checks in Go pass, nothing the writes do needs
// checking, and their batch may carry the COMMIT: every claim on a busy
// provider waits for these locks, and they are held for two round trips.

// invKey identifies an inventory record.
type invKey struct{ rp, rc int }

// testHookBeforeLock, when set by a test, runs in every allocation write
// between the consumer checks and the locks: the window in which a racing
// write can still change a consumer.
var testHookBeforeLock func()

// testHookBeforeWrites, when set by a test, runs in every allocation write
// after the checks under the locks, right before the batch that writes
// (and commits).
var testHookBeforeWrites func()

// replacement is one write's replacement: the written consumers, the rows
// (body order) and what is derived from them.
type replacement struct {
	set       placement.AllocationSet
	consumers []consumer
	rows      []allocRow
	classIDs  map[string]int // class name → id, for the classes of rows
	rpIDs     []int          // the providers of rows, ascending
	inRows    []bool         // by consumer index: the consumer's rows are replaced
	// The consumers whose rows are replaced (inRows), by uuid and by id.
	touchedUUIDs []string
	touchedIDs   []int
}

// lockRead is what the locking statements read.
type lockRead struct {
	providers int         // how many of the write's providers still exist
	locked    map[int]int // consumer id → generation (the consumers that still exist)
	invs      map[invKey]placement.Inventory
	usage     map[invKey]int64 // what the other consumers use
	freed     map[invKey]int64 // what the written consumers used before the write
}

// replaceAllocations deletes the old rows of the consumers in rows, checks
// the new rows against inventory and the usage of everybody else, inserts
// them and bumps provider and consumer generations: one round trip under
// the locks, then one that writes (and, with commit, commits). known maps
// class names to ids as the prefetch found them.
func replaceAllocations(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, consumers []consumer, rows []allocRow, known map[string]int, commit bool) error {
	classIDs, err := allocationClassIDs(ctx, tx, rows, known)
	if err != nil {
		return err
	}
	w := &replacement{set: set, consumers: consumers, rows: rows, classIDs: classIDs,
		rpIDs: distinctProviders(rows), inRows: make([]bool, len(set))}
	for _, r := range rows {
		w.inRows[r.consumer] = true
	}
	for i, ok := range w.inRows {
		if ok {
			w.touchedUUIDs = append(w.touchedUUIDs, set[i].ConsumerUUID)
			if !consumers[i].pending {
				w.touchedIDs = append(w.touchedIDs, consumers[i].ID)
			}
		}
	}
	if testHookBeforeLock != nil {
		testHookBeforeLock()
	}
	var b pgx.Batch
	read := w.queueLockAndRead(&b)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	if slices.ContainsFunc(w.consumers, func(c consumer) bool { return c.pending }) {
		return errRetryable // a concurrent writer created a pending consumer
	}
	if err := w.check(read); err != nil {
		return err
	}
	if testHookBeforeWrites != nil {
		testHookBeforeWrites()
	}
	if commit {
		commitWithNextBatch(tx)
	}
	b = pgx.Batch{}
	w.queueWrites(&b)
	return tx.SendBatch(ctx, &b).Close()
}

// queueLockAndRead queues the locking of the providers, the deletion of
// the written consumers' rows, the locking of those consumers and the read
// of inventory and the remaining usage; the result fills in as the batch
// runs.
func (w *replacement) queueLockAndRead(b *pgx.Batch) *lockRead {
	read := &lockRead{locked: map[int]int{}, freed: map[invKey]int64{}}
	w.queueInsertPending(b, read)
	queueLockProviders(b, w.rpIDs, &read.providers)
	if len(w.touchedUUIDs) > 0 {
		b.Queue(`DELETE FROM allocations WHERE consumer_id = ANY($1)
			RETURNING resource_provider_id, resource_class_id, used`, w.touchedUUIDs).Query(func(rows pgx.Rows) error {
			var k invKey
			var used int64
			_, err := pgx.ForEachRow(rows, []any{&k.rp, &k.rc, &used}, func() error {
				read.freed[k] += used
				return nil
			})
			return err
		})
		b.Queue(`SELECT id, generation FROM consumers WHERE id = ANY($1) ORDER BY id FOR UPDATE`, w.touchedIDs).Query(func(rows pgx.Rows) error {
			var id, gen int
			_, err := pgx.ForEachRow(rows, []any{&id, &gen}, func() error { read.locked[id] = gen; return nil })
			return err
		})
	}
	queueInventoriesAndUsage(b, w.rpIDs, w.classIDs, &read.invs, &read.usage)
	return read
}

// queueInsertPending queues the INSERTs of the pending consumers (see
// ensureConsumer), first in the batch, where the write used to insert
// them in a round trip of their own. An inserted consumer is locked by
// its INSERT, at generation 0, and joins the touched consumers; one that
// a concurrent writer created meanwhile stays pending.
func (w *replacement) queueInsertPending(b *pgx.Batch, read *lockRead) {
	for i := range w.consumers {
		c := &w.consumers[i]
		if !c.pending {
			continue
		}
		b.Queue(insertConsumer, c.UUID, c.ProjectID, c.UserID, c.TypeID).Query(func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&c.ID}, func() error {
				c.pending = false
				read.locked[c.ID] = 0
				w.touchedIDs = append(w.touchedIDs, c.ID)
				return nil
			})
			return err
		})
	}
}

// check judges the write by what the locking statements read. A provider
// deleted since the prefetch makes the write start again; a consumer whose
// generation moved since ensureConsumer read it (or that is gone) fails it
// as a concurrent update; then the rows must pass checkRows.
func (w *replacement) check(read *lockRead) error {
	if read.providers != len(w.rpIDs) {
		return errRetryable
	}
	for i, ok := range w.inRows {
		if gen, found := read.locked[w.consumers[i].ID]; ok && (!found || gen != w.consumers[i].Generation) {
			return errConsumerChanged()
		}
	}
	return checkRows(w.rows, w.classIDs, read.invs, read.usage, read.freed)
}

// queueWrites queues the insertion of the new rows, the bumps of the
// providers' and written consumers' generations and the deletion of the
// consumers left without allocations.
func (w *replacement) queueWrites(b *pgx.Batch) {
	var insRP, insRC, insUsed []int
	var insConsumer []string
	for _, r := range w.rows {
		if r.used == 0 {
			continue
		}
		insRP, insRC, insUsed = append(insRP, r.rpID), append(insRC, r.rcID), append(insUsed, r.used)
		insConsumer = append(insConsumer, w.set[r.consumer].ConsumerUUID)
	}
	if len(insRP) > 0 {
		b.Queue(`
INSERT INTO allocations (created_at, updated_at, resource_provider_id, resource_class_id, consumer_id, used)
SELECT `+now+`, `+now+`, r.rp, r.rc, r.consumer, r.used
FROM unnest($1::int4[], $2::int4[], $3::text[], $4::int4[]) AS r(rp, rc, consumer, used)`,
			insRP, insRC, insConsumer, insUsed)
	}
	if len(w.rpIDs) > 0 {
		b.Queue(`UPDATE resource_providers SET generation = generation + 1, updated_at = `+now+` WHERE id = ANY($1)`, w.rpIDs)
	}
	if len(w.touchedIDs) > 0 {
		b.Queue(`UPDATE consumers SET generation = generation + 1, updated_at = `+now+` WHERE id = ANY($1)`, w.touchedIDs)
	}
	hasRows := make([]bool, len(w.set))
	for _, r := range w.rows {
		if r.used > 0 {
			hasRows[r.consumer] = true
		}
	}
	var emptied []string
	for i, ok := range w.inRows {
		if ok && !hasRows[i] {
			emptied = append(emptied, w.set[i].ConsumerUUID)
		}
	}
	queueDeleteConsumersWithoutAllocations(b, emptied)
}

func distinctProviders(rows []allocRow) []int {
	seen := map[int]bool{}
	var ids []int
	for _, r := range rows {
		if !seen[r.rpID] {
			seen[r.rpID] = true
			ids = append(ids, r.rpID)
		}
	}
	sort.Ints(ids)
	return ids
}

// queueLockProviders queues the locking of the providers; *found gets how
// many of them exist.
func queueLockProviders(b *pgx.Batch, ids []int, found *int) {
	if len(ids) == 0 {
		return
	}
	b.Queue(`SELECT id FROM resource_providers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids).Query(func(rows pgx.Rows) error {
		var id int
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error { *found++; return nil })
		return err
	})
}

// queueInventoriesAndUsage queues the read of the inventory of every
// (provider, class) pair of the write and of the usage of all other
// consumers (queued after the deletion of the written consumers' rows).
func queueInventoriesAndUsage(b *pgx.Batch, rpIDs []int, classIDs map[string]int, invs *map[invKey]placement.Inventory, usage *map[invKey]int64) {
	*invs, *usage = map[invKey]placement.Inventory{}, map[invKey]int64{}
	if len(rpIDs) == 0 {
		return
	}
	rcIDs := make([]int, 0, len(classIDs))
	for _, id := range classIDs {
		rcIDs = append(rcIDs, id)
	}
	b.Queue(`
SELECT i.resource_provider_id, i.resource_class_id, i.total, i.reserved, i.min_unit, i.max_unit,
       i.step_size, i.allocation_ratio,
       COALESCE((SELECT SUM(a.used) FROM allocations a
                 WHERE a.resource_provider_id = i.resource_provider_id
                   AND a.resource_class_id = i.resource_class_id), 0)
FROM inventories i
WHERE i.resource_provider_id = ANY($1) AND i.resource_class_id = ANY($2)`, rpIDs, rcIDs).Query(func(rows pgx.Rows) error {
		var k invKey
		var inv placement.Inventory
		var used int64
		_, err := pgx.ForEachRow(rows, []any{&k.rp, &k.rc, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
			&inv.StepSize, &inv.AllocationRatio, &used}, func() error {
			(*invs)[k], (*usage)[k] = inv, used
			return nil
		})
		return err
	})
}

// checkRows applies the capacity rule to the rows in order; the first
// failing row decides the message. Removal rows (used 0) are never checked
// but their provider still needs some inventory of the write's classes.
//
// usage is what other consumers use; freed is what the written consumers
// used before this write. Over-capacity relief (spec 06 §7, upstream
// master since 14.0.0): a provider/class already over its capacity (its
// inventory shrunk below its usage, or reserved or the ratio changed) still
// accepts a write that leaves its usage no larger than before
// (usage + running <= usage + freed): keeping, shrinking or moving away.
// Growing it, or a consumer new to it, still fails.
func checkRows(rows []allocRow, classIDs map[string]int, invs map[invKey]placement.Inventory, usage, freed map[invKey]int64) error {
	withInv := map[int]bool{}
	for k := range invs {
		withInv[k.rp] = true
	}
	var missing []string
	seen := map[int]bool{}
	for _, r := range rows {
		if !withInv[r.rpID] && !seen[r.rpID] {
			seen[r.rpID] = true
			missing = append(missing, r.rpUUID)
		}
	}
	if len(missing) > 0 {
		names := classesInSetOrder(rows, classIDs)
		return invalidAllocation("Inventory for '%s' on resource provider '%s' invalid.",
			strings.Join(names, ", "), strings.Join(missing, ", "))
	}
	running := map[invKey]int64{}
	for _, r := range rows {
		k := invKey{r.rpID, r.rcID}
		running[k] += int64(r.used)
		if r.used == 0 {
			continue
		}
		inv, ok := invs[k]
		if !ok {
			return invalidAllocation("Inventory for '%s' on resource provider '%s' invalid.", r.rc, r.rpUUID)
		}
		if !inv.FitsUnits(r.used) {
			return invalidAllocation("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would violate inventory constraints.", r.rc, r.rpUUID)
		}
		if !inv.FitsCapacity(usage[k], running[k]) && running[k] > freed[k] {
			return invalidAllocation("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would exceed the capacity.", r.rc, r.rpUUID)
		}
	}
	return nil
}

// classesInSetOrder lists the classes of rows in the order upstream names
// them in the "Inventory for '<classes>' … invalid." message: it iterates
// a Python set of the class ids, built in row order.
func classesInSetOrder(rows []allocRow, classIDs map[string]int) []string {
	var ids []int
	for _, r := range rows {
		ids = append(ids, classIDs[r.rc])
	}
	names := make(map[int]string, len(classIDs))
	for n, id := range classIDs {
		names[id] = n
	}
	var out []string
	for _, id := range pycompat.IntSetOrder(ids) {
		out = append(out, names[id])
	}
	return out
}
