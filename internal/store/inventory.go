package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// inventoryColumns are the six value columns of an inventory row, in the
// order scanInventory and the INSERT/UPDATE statements use them.
const inventoryColumns = `i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio`

// scanInventory reads inventoryColumns followed by created_at, updated_at.
func scanInventory(row pgx.Row, inv *placement.Inventory, lastModified *time.Time, extra ...any) error {
	var created, updated *time.Time
	dest := append(extra, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize, &inv.AllocationRatio, &created, &updated)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	*lastModified = stamp(created, updated)
	return nil
}

// Inventories returns the inventory of provider p by resource class name and
// the latest updated_at/created_at among the rows (zero when there are none).
func (s *Store) Inventories(ctx context.Context, p Provider) (map[string]placement.Inventory, time.Time, error) {
	rows, err := s.db.Query(ctx, `
SELECT rc.name, `+inventoryColumns+`, i.created_at, i.updated_at
FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id
WHERE i.resource_provider_id = $1`, p.ID)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	out := map[string]placement.Inventory{}
	var last time.Time
	for rows.Next() {
		var name string
		var inv placement.Inventory
		var lm time.Time
		if err := scanInventory(rows, &inv, &lm, &name); err != nil {
			return nil, time.Time{}, err
		}
		out[name] = inv
		last = latest(last, lm)
	}
	return out, last, rows.Err()
}

// Inventory returns provider p's inventory of class and its
// updated_at/created_at. A missing record, also for an unknown class, is
// NotFound "No inventory of class <class> for <uuid>".
func (s *Store) Inventory(ctx context.Context, p Provider, class string) (placement.Inventory, time.Time, error) {
	var inv placement.Inventory
	var lm time.Time
	err := scanInventory(s.db.QueryRow(ctx, `
SELECT `+inventoryColumns+`, i.created_at, i.updated_at
FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id
WHERE i.resource_provider_id = $1 AND rc.name = $2`, p.ID, class), &inv, &lm)
	if isNoRows(err) {
		return inv, lm, notFound("No inventory of class %s for %s", class, p.UUID)
	}
	return inv, lm, err
}

// CreateInventory adds provider uuid's inventory of class (POST
// …/inventories) and returns the new provider generation. Errors: NotFound
// for the provider; Invalid "Unable to create inventory …: No such resource
// class …"; Conflict placement.concurrent_update when the provider already
// has that class or changed concurrently.
func (s *Store) CreateInventory(ctx context.Context, uuid, class string, inv placement.Inventory) (int, error) {
	var gen int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		if gen, err = bumpGeneration(ctx, tx, p.ID, p.Generation, "Update conflict: "+MsgConcurrentUpdate); err != nil {
			return err
		}
		rc, err := resourceClassByName(ctx, tx, class)
		if placement.KindOf(err) == placement.NotFound {
			return placement.E(placement.Invalid, "Unable to create inventory for resource provider %s: %s", uuid, err)
		}
		if err != nil {
			return err
		}
		err = insertInventory(ctx, tx, p.ID, rc.ID, inv)
		if pgCode(err) == pgerrcode.UniqueViolation {
			return placement.E(placement.Conflict, "Update conflict: %s", dbDetail(err)).WithCode(placement.CodeConcurrentUpdate)
		}
		return err
	})
	return gen, err
}

// SetInventories replaces all inventory of provider uuid by invs (PUT
// …/inventories) and returns the new provider generation. generation is the
// one the client sent; callers compare it with the provider first to
// answer "resource provider generation conflict", so a mismatch here is a
// race: Conflict placement.concurrent_update "update conflict: …". Other
// errors: NotFound for the provider; Invalid "Unknown resource class in
// inventory …"; Conflict placement.inventory.inuse when a class to be
// removed has allocations.
func (s *Store) SetInventories(ctx context.Context, uuid string, generation int, invs map[string]placement.Inventory) (int, error) {
	var gen int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		// Bumping first takes the provider's row lock, so concurrent
		// inventory and allocation writers queue behind this transaction.
		bump := &uuidBump{uuid: uuid, gen: generation, msg: "update conflict: " + MsgConcurrentUpdate}
		err := replaceInventories(ctx, tx, Provider{UUID: uuid}, invs, true, bump)
		gen = generation + 1
		// Once the provider was bumped, NotFound can only be a class.
		if placement.KindOf(err) == placement.NotFound && bump.id != nil {
			return placement.E(placement.Invalid, "Unknown resource class in inventory for resource provider %s: %s", uuid, err)
		}
		return err
	})
	return gen, err
}

// UpdateInventory overwrites provider uuid's existing inventory of class
// (PUT …/inventories/{rc}) and returns the new provider generation. It never
// creates a record. Errors: NotFound for the provider and for an unknown
// class ("No such resource class <rc>."); Invalid "No inventory record with
// resource class …" when the provider has none of class; Conflict
// placement.concurrent_update "update conflict: …" when generation is stale.
func (s *Store) UpdateInventory(ctx context.Context, uuid string, generation int, class string, inv placement.Inventory) (int, error) {
	var gen int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		if gen, err = bumpGeneration(ctx, tx, p.ID, generation, "update conflict: "+MsgConcurrentUpdate); err != nil {
			return err
		}
		rc, err := resourceClassByName(ctx, tx, class)
		if err != nil {
			return err
		}
		found, err := updateInventory(ctx, tx, p.ID, rc.ID, inv)
		if err == nil && !found {
			return placement.E(placement.Invalid,
				"No inventory record with resource class for resource provider %s: No inventory of class %s found.", uuid, class)
		}
		return err
	})
	return gen, err
}

// DeleteInventory removes provider uuid's inventory of class (DELETE
// …/inventories/{rc}) and bumps the generation. Errors: NotFound for the
// provider, an unknown class and a missing record (upstream's "No inventory
// of class … found for delete: …" texts); Conflict with
// placement.concurrent_update (sic, not inventory.inuse, as upstream) when
// the class has allocations on the provider or the provider changed.
func (s *Store) DeleteInventory(ctx context.Context, uuid, class string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		prefix := "Unable to delete inventory of class " + class + ": "
		if _, err := bumpGeneration(ctx, tx, p.ID, p.Generation, prefix+MsgConcurrentUpdate); err != nil {
			return err
		}
		rc, err := resourceClassByName(ctx, tx, class)
		if placement.KindOf(err) == placement.NotFound {
			return notFound("No inventory of class %s found for delete: %s", class, err)
		}
		if err != nil {
			return err
		}
		inUse, err := classesInUse(ctx, tx, p.ID, []int{rc.ID})
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return placement.E(placement.Conflict, "%s%s", prefix, inUseMessage(p.UUID, inUse)).WithCode(placement.CodeConcurrentUpdate)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM inventories WHERE resource_provider_id = $1 AND resource_class_id = $2`, p.ID, rc.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			msg := "No inventory of class " + class + " found for delete"
			return notFound("%s: %s", msg, msg)
		}
		return nil
	})
}

// DeleteAllInventories removes every inventory of provider uuid (DELETE
// …/inventories, 1.5+) and bumps the generation, also when there was
// nothing to delete. Errors: NotFound for the provider; Conflict
// placement.inventory.inuse listing every class with allocations; Conflict
// placement.concurrent_update when the provider changed concurrently.
func (s *Store) DeleteAllInventories(ctx context.Context, uuid string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		if _, err := bumpGeneration(ctx, tx, p.ID, p.Generation,
			"Unable to delete inventory for resource provider "+uuid+
				" because the inventory was updated by another process. Please retry your request."); err != nil {
			return err
		}
		inUse, err := classesInUse(ctx, tx, p.ID, nil)
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return placement.E(placement.Conflict, "%s", inUseMessage(p.UUID, inUse)).WithCode(placement.CodeInventoryInUse)
		}
		_, err = tx.Exec(ctx, `DELETE FROM inventories WHERE resource_provider_id = $1`, p.ID)
		return err
	})
}

// replaceInventories makes invs (class name → record) the complete
// inventory of provider p inside tx: records of classes not in invs are
// deleted, existing ones are updated in place (row ids kept), new ones
// inserted. It does not touch the provider generation; the caller bumps it
// once in the same transaction. With last, its final batch also commits the
// transaction (see commitWithNextBatch).
//
// Errors: NotFound "No such resource class <name>." for an unknown class
// (callers add their own prefix and usually turn it into a 400); Conflict
// placement.inventory.inuse "update conflict: Inventory for '<RC1>, <RC2>'
// on resource provider '<uuid>' in use." when classes to be removed have
// allocations; Conflict placement.concurrent_update "update conflict: …"
// on a concurrent insert of the same class. Capacity is not checked here:
// the inventory endpoints validate it per microversion, the reshaper not at
// all. Shrinking an inventory below its current usage is allowed.
//
// With bump, p.ID is not needed: the bump runs first in the first round
// trip, and its failure is reported before any other.
func replaceInventories(ctx context.Context, tx pgx.Tx, p Provider, invs map[string]placement.Inventory, last bool, bump *uuidBump) error {
	names := make([]string, 0, len(invs))
	for name := range invs {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic: the first unknown name in sorted order is reported
	ids, existing, err := lockInventories(ctx, tx, &p, names, bump)
	if err != nil {
		return err
	}
	wanted := make(map[int]placement.Inventory, len(invs))
	for _, name := range names {
		id, ok := ids[name]
		if !ok {
			return notFound("No such resource class %s.", name)
		}
		wanted[id] = invs[name]
	}

	var toDelete, toUpdate []int
	for _, id := range existing {
		if _, keep := wanted[id]; keep {
			toUpdate = append(toUpdate, id)
		} else {
			toDelete = append(toDelete, id)
		}
	}
	if len(toDelete) > 0 {
		inUse, err := classesInUse(ctx, tx, p.ID, toDelete)
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return placement.E(placement.Conflict, "update conflict: %s", inUseMessage(p.UUID, inUse)).WithCode(placement.CodeInventoryInUse)
		}
	}

	// One more round trip writes everything.
	var b pgx.Batch
	if len(toDelete) > 0 {
		b.Queue(`DELETE FROM inventories WHERE resource_provider_id = $1 AND resource_class_id = ANY($2)`, p.ID, toDelete)
	}
	for _, id := range toUpdate {
		inv := wanted[id]
		b.Queue(updateInventorySQL, p.ID, id, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio).
			Exec(func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() == 0 { // cannot happen under FOR UPDATE; upstream words the race like this
					return placement.E(placement.Conflict,
						"Race condition detected when setting inventory. No inventory record with resource class for resource provider %s: No inventory of class id %d found.", p.UUID, id)
				}
				return nil
			})
		delete(wanted, id)
	}
	if len(wanted) > 0 {
		var cols insertColumns
		for _, id := range slices.Sorted(maps.Keys(wanted)) {
			cols.add(id, wanted[id])
		}
		b.Queue(insertInventoriesSQL, p.ID, cols.class, cols.total, cols.reserved, cols.minUnit, cols.maxUnit, cols.stepSize, cols.ratio)
	}
	if last {
		// Every failure of this batch is an SQL error (the update check
		// above cannot fail under FOR UPDATE), so it may carry the COMMIT.
		commitWithNextBatch(tx)
	}
	err = tx.SendBatch(ctx, &b).Close()
	if pgCode(err) == pgerrcode.UniqueViolation {
		return placement.E(placement.Conflict, "update conflict: %s", dbDetail(err)).WithCode(placement.CodeConcurrentUpdate)
	}
	return err
}

// lockInventories reads, in one round trip (with the bump, which sets
// p.ID), the ids of the classes named and locks the provider's existing
// records, returning their class ids in ascending order.
func lockInventories(ctx context.Context, tx pgx.Tx, p *Provider, names []string, bump *uuidBump) (ids map[string]int, existing []int, err error) {
	var b pgx.Batch
	ids = make(map[string]int, len(names))
	if bump != nil {
		bump.queue(&b)
	}
	b.Queue(`SELECT name, id FROM resource_classes WHERE name = ANY($1)`, names).Query(func(rows pgx.Rows) error {
		var name string
		var id int
		_, err := pgx.ForEachRow(rows, []any{&name, &id}, func() error { ids[name] = id; return nil })
		return err
	})
	b.Queue(`SELECT resource_class_id FROM inventories
		WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = $1)
		ORDER BY resource_class_id FOR UPDATE`, p.UUID).Query(func(rows pgx.Rows) error {
		var err error
		existing, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, nil, err
	}
	if bump != nil {
		id, err := bump.result(ctx, tx)
		if err != nil {
			return nil, nil, err
		}
		p.ID = id
	}
	return ids, existing, nil
}

// insertInventoriesSQL inserts the records of provider $1 given column by
// column, in array order.
const insertInventoriesSQL = `
INSERT INTO inventories (created_at, resource_provider_id, resource_class_id,
	total, reserved, min_unit, max_unit, step_size, allocation_ratio)
SELECT ` + now + `, $1, r.class, r.total, r.reserved, r.min_unit, r.max_unit, r.step_size, r.ratio
FROM unnest($2::integer[], $3::integer[], $4::integer[], $5::integer[], $6::integer[], $7::integer[], $8::float8[])
	WITH ORDINALITY r(class, total, reserved, min_unit, max_unit, step_size, ratio, n)
ORDER BY r.n`

// insertColumns holds inventory records column by column for
// insertInventoriesSQL.
type insertColumns struct {
	class, total, reserved, minUnit, maxUnit, stepSize []int
	ratio                                              []float64
}

func (c *insertColumns) add(classID int, inv placement.Inventory) {
	c.class = append(c.class, classID)
	c.total = append(c.total, inv.Total)
	c.reserved = append(c.reserved, inv.Reserved)
	c.minUnit = append(c.minUnit, inv.MinUnit)
	c.maxUnit = append(c.maxUnit, inv.MaxUnit)
	c.stepSize = append(c.stepSize, inv.StepSize)
	c.ratio = append(c.ratio, inv.AllocationRatio)
}

func insertInventory(ctx context.Context, tx pgx.Tx, providerID, classID int, inv placement.Inventory) error {
	_, err := tx.Exec(ctx, `
INSERT INTO inventories (created_at, resource_provider_id, resource_class_id,
	total, reserved, min_unit, max_unit, step_size, allocation_ratio)
VALUES (`+now+`, $1, $2, $3, $4, $5, $6, $7, $8)`,
		providerID, classID, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio)
	return err
}

const updateInventorySQL = `
UPDATE inventories SET total = $3, reserved = $4, min_unit = $5, max_unit = $6, step_size = $7,
	allocation_ratio = $8, updated_at = ` + now + `
WHERE resource_provider_id = $1 AND resource_class_id = $2`

// updateInventory overwrites all six value columns of one row and reports
// whether the row existed.
func updateInventory(ctx context.Context, tx pgx.Tx, providerID, classID int, inv placement.Inventory) (bool, error) {
	tag, err := tx.Exec(ctx, updateInventorySQL,
		providerID, classID, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio)
	return tag.RowsAffected() > 0, err
}

// classesInUse returns, ordered by class id, the names of the classes among
// classIDs (all classes when nil) that have allocations on the provider.
func classesInUse(ctx context.Context, tx pgx.Tx, providerID int, classIDs []int) ([]string, error) {
	rows, err := tx.Query(ctx, `
SELECT rc.name FROM resource_classes rc
WHERE EXISTS (SELECT 1 FROM allocations a
              WHERE a.resource_provider_id = $1 AND a.resource_class_id = rc.id)
  AND ($2::integer[] IS NULL OR rc.id = ANY($2))
ORDER BY rc.id`, providerID, classIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// inUseMessage is upstream's InventoryInUse text.
func inUseMessage(uuid string, classes []string) string {
	return "Inventory for '" + strings.Join(classes, ", ") + "' on resource provider '" + uuid + "' in use."
}

// dbDetail renders a database error like the driver text upstream leaks
// into conflict messages (message and DETAIL line, without the SQL).
func dbDetail(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if pe.Detail != "" {
			return pe.Message + " DETAIL:  " + pe.Detail
		}
		return pe.Message
	}
	return err.Error()
}
