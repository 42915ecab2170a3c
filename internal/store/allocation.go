package store

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Categories of allocation write failures. The endpoints word these
// differently (PUT: "Unable to allocate inventory for consumer <c>: …",
// POST: "Unable to allocate inventory …", reshaper: "malformed reshaper
// data: …"), so the store returns the bare reason wrapped around one of
// these sentinels and the handler adds its prefix (test with errors.Is).
var (
	// ErrAllocationUnknownClass: a resource class named in the write does not exist (400).
	ErrAllocationUnknownClass = errors.New("unknown resource class")
	// ErrAllocationInvalid: no inventory, min/max/step violated or capacity exceeded (409).
	ErrAllocationInvalid = errors.New("invalid allocation")
	// ErrAllocationConcurrentUpdate: provider conflicts outlasted the retries,
	// or a consumer changed under the write (409 placement.concurrent_update).
	ErrAllocationConcurrentUpdate = errors.New("concurrent update")
)

// errRetryable makes the retry loop start the transaction again: a provider
// generation CAS miss, or a consumer that vanished between two reads.
var errRetryable = errors.New("retryable allocation conflict")

// SetAllocations atomically replaces the allocations of every consumer in
// set (an empty Allocations map removes all of that consumer's
// allocations). It is the one write path of PUT and POST /allocations.
//
// The whole write runs in one transaction which is retried from scratch, up
// to s.ConflictRetries times, on a provider generation conflict and on
// SQLSTATE 40001/40P01. A consumer generation mismatch is never retried. A
// failed write changes nothing, except that a write naming a provider that
// does not exist leaves its new consumers behind (leaveGhostConsumers).
func (s *Store) SetAllocations(ctx context.Context, set placement.AllocationSet) error {
	err := s.retryAllocations(ctx, func(tx pgx.Tx) error { return setAllocationsTx(ctx, tx, set) })
	if errors.Is(err, errUnknownProvider) {
		return s.leaveGhostConsumers(ctx, set, err)
	}
	return err
}

// retryAllocations runs fn in a transaction, retrying as SetAllocations
// describes.
func (s *Store) retryAllocations(ctx context.Context, fn func(tx pgx.Tx) error) error {
	attempts := max(s.ConflictRetries, 1)
	for attempt := 1; ; attempt++ {
		err := s.withTx(ctx, fn)
		reason := ""
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errRetryable):
			err = &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate,
				Message: MsgConcurrentUpdate, Err: ErrAllocationConcurrentUpdate}
			reason = "generation"
		case pgCode(err) == pgerrcode.SerializationFailure || pgCode(err) == pgerrcode.DeadlockDetected:
			reason = pgCode(err)
		default:
			return err
		}
		if attempt >= attempts || ctx.Err() != nil {
			return err
		}
		s.retried(reason)
	}
}

// retried reports one restart of the write transaction to OnRetry.
func (s *Store) retried(reason string) {
	if s.OnRetry != nil {
		s.OnRetry(reason)
	}
}

// allocRow is one (provider, class, amount) of the write; Used 0 marks the
// removal of a consumer's old allocation (an emptied consumer).
type allocRow struct {
	consumer int // index into the consumers of the write
	rpID     int
	rpUUID   string
	rc       string
	rcID     int
	used     int
}

// setAllocationsTx is the body of SetAllocations' transaction: Phase A
// (projects, users, types, consumers and their generations), Phase B
// (providers and rows), then the replacement with capacity checks and
// generation bumps.
func setAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet) error {
	return writeAllocationsTx(ctx, tx, set, nil)
}

// writeAllocationsTx is setAllocationsTx with a hook run after the
// consumers are updated and right before the replacement. The reshaper
// (Store.Reshape) calls it inside its own transaction, with its interim
// inventory step (spec 08 §2) as the hook.
func writeAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, beforeReplace func() error) error {
	k, err := prefetch(ctx, tx, set)
	if err != nil {
		return err
	}
	consumers := make([]consumer, len(set))
	attrs := make([]consumerAttrs, len(set))
	for i, w := range set {
		c, a, err := ensureConsumer(ctx, tx, k, w)
		if err != nil {
			return err
		}
		consumers[i], attrs[i] = c, a
	}

	var rows []allocRow
	for i, w := range set {
		if len(w.Allocations) == 0 {
			old, err := currentRows(ctx, tx, i, w.ConsumerUUID)
			if err != nil {
				return err
			}
			for _, r := range old {
				k.classes[r.rc] = r.rcID
			}
			rows = append(rows, old...)
			continue
		}
		for _, r := range w.Rows() { // body order: the first failing row names the error
			rp, ok := k.providers[r.Provider]
			if !ok {
				return &placement.Error{Kind: placement.Invalid, Err: errUnknownProvider,
					Message: "Allocation for resource provider '" + r.Provider + "' that does not exist."}
			}
			rows = append(rows, allocRow{consumer: i, rpID: rp, rpUUID: r.Provider, rc: r.Class, used: w.Allocations[r.Provider][r.Class]})
		}
	}

	for i := range set {
		if err := updateConsumer(ctx, tx, consumers[i], attrs[i]); err != nil {
			return err
		}
	}
	if beforeReplace != nil {
		if err := beforeReplace(); err != nil {
			return err
		}
	}
	return replaceAllocations(ctx, tx, set, consumers, rows, k.classes)
}

// known is what a write's prefetch found: ids of projects and users (by
// external id), consumer types, providers (by uuid) and resource classes
// (by name), and the existing consumers. Absent keys did not exist.
type known struct {
	projects, users, types, providers, classes map[string]int
	consumers                                  map[string]consumer
}

func newKnown() *known {
	return &known{projects: map[string]int{}, users: map[string]int{}, types: map[string]int{},
		providers: map[string]int{}, classes: map[string]int{}, consumers: map[string]consumer{}}
}

// prefetch reads, in one round trip, every existing row the write refers
// to by name. These reads have no side effects, so the write still makes
// its checks and inserts in the order the spec gives.
func prefetch(ctx context.Context, tx pgx.Tx, set placement.AllocationSet) (*known, error) {
	k := newKnown()
	var projects, users, types, consumers, providers, classes []string
	for _, w := range set {
		projects, users, consumers = append(projects, w.ProjectID), append(users, w.UserID), append(consumers, w.ConsumerUUID)
		if w.ConsumerType != nil {
			types = append(types, *w.ConsumerType)
		}
		for _, r := range w.Rows() {
			providers, classes = append(providers, r.Provider), append(classes, r.Class)
		}
	}
	var b pgx.Batch
	queueIDs := func(sql string, keys []string, into map[string]int) {
		if len(keys) == 0 {
			return
		}
		b.Queue(sql, keys).Query(func(rows pgx.Rows) error {
			var key string
			var id int
			_, err := pgx.ForEachRow(rows, []any{&key, &id}, func() error { into[key] = id; return nil })
			return err
		})
	}
	queueIDs(`SELECT external_id, id FROM projects WHERE external_id = ANY($1)`, projects, k.projects)
	queueIDs(`SELECT external_id, id FROM users WHERE external_id = ANY($1)`, users, k.users)
	queueIDs(`SELECT name, id FROM consumer_types WHERE name = ANY($1)`, types, k.types)
	queueIDs(`SELECT uuid, id FROM resource_providers WHERE uuid = ANY($1)`, providers, k.providers)
	queueIDs(`SELECT name, id FROM resource_classes WHERE name = ANY($1)`, classes, k.classes)
	b.Queue(`SELECT id, uuid, project_id, user_id, generation, consumer_type_id FROM consumers WHERE uuid = ANY($1)`, consumers).Query(func(rows pgx.Rows) error {
		var c consumer
		_, err := pgx.ForEachRow(rows, []any{&c.ID, &c.UUID, &c.ProjectID, &c.UserID, &c.Generation, &c.TypeID}, func() error {
			k.consumers[c.UUID] = c
			return nil
		})
		return err
	})
	return k, tx.SendBatch(ctx, &b).Close()
}

// currentRows returns a consumer's allocations as removal rows (used 0).
func currentRows(ctx context.Context, tx pgx.Tx, consumerIdx int, uuid string) ([]allocRow, error) {
	rows, err := tx.Query(ctx, `
SELECT a.resource_provider_id, rp.uuid, rc.name, a.resource_class_id
FROM allocations a
JOIN resource_providers rp ON rp.id = a.resource_provider_id
JOIN resource_classes rc ON rc.id = a.resource_class_id
WHERE a.consumer_id = $1 ORDER BY rp.uuid, rc.name`, uuid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (allocRow, error) {
		r := allocRow{consumer: consumerIdx}
		err := row.Scan(&r.rpID, &r.rpUUID, &r.rc, &r.rcID)
		return r, err
	})
}

// invKey identifies an inventory record.
type invKey struct{ rp, rc int }

// replaceAllocations deletes the old rows of the consumers in rows, checks
// the new rows against inventory and the usage of everybody else, inserts
// them and bumps provider and consumer generations. known maps class names
// to ids as the prefetch found them.
//
// The providers are locked (in id order, to avoid deadlocks) before usage
// is read, so concurrent claims on one provider queue up instead of failing
// each other's generation compare-and-swap; the CAS stays as the guard that
// makes a write without the lock (inventory changes) surface as a retry.
// While the locks are held there are two round trips (lock and read, then
// all the writes) and the commit.
func replaceAllocations(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, consumers []consumer, rows []allocRow, known map[string]int) error {
	classIDs, err := allocationClassIDs(ctx, tx, rows, known)
	if err != nil {
		return err
	}
	rpIDs := distinctProviders(rows)
	inRows := make([]bool, len(set))
	for _, r := range rows {
		inRows[r.consumer] = true
	}
	gens, err := lockAndCheck(ctx, tx, set, rows, inRows, rpIDs, classIDs)
	if err != nil {
		return err
	}
	return writeRows(ctx, tx, set, consumers, rows, inRows, rpIDs, gens)
}

// lockAndCheck locks the providers rpIDs, deletes the rows of the written
// consumers (inRows) and reads inventory and the remaining usage, in one
// round trip, then checks the new rows. It returns the providers'
// generations.
func lockAndCheck(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, rows []allocRow, inRows []bool, rpIDs []int, classIDs map[string]int) (map[int]int, error) {
	var touched []string
	for i, ok := range inRows {
		if ok {
			touched = append(touched, set[i].ConsumerUUID)
		}
	}
	var (
		b     pgx.Batch
		gens  map[int]int
		invs  map[invKey]placement.Inventory
		usage map[invKey]int64
		freed = map[invKey]int64{}
	)
	queueLockProviders(&b, rpIDs, &gens)
	if len(touched) > 0 {
		b.Queue(`DELETE FROM allocations WHERE consumer_id = ANY($1)
			RETURNING resource_provider_id, resource_class_id, used`, touched).Query(func(rows pgx.Rows) error {
			var k invKey
			var used int64
			_, err := pgx.ForEachRow(rows, []any{&k.rp, &k.rc, &used}, func() error {
				freed[k] += used
				return nil
			})
			return err
		})
	}
	queueInventoriesAndUsage(&b, rpIDs, classIDs, &invs, &usage)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	if len(gens) != len(rpIDs) {
		return nil, errRetryable // a provider was deleted since the prefetch
	}
	if err := checkRows(rows, classIDs, invs, usage, freed); err != nil {
		return nil, err
	}
	return gens, nil
}

// writeRows inserts the new rows, bumps the generations of the providers
// (from gens) and of the written consumers, and deletes the consumers left
// without allocations: one round trip. A failed compare-and-swap is
// reported after the batch and rolls all of it back.
func writeRows(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, consumers []consumer, rows []allocRow, inRows []bool, rpIDs []int, gens map[int]int) error {
	var b pgx.Batch
	var insRP, insRC, insUsed []int
	var insConsumer []string
	for _, r := range rows {
		if r.used == 0 {
			continue
		}
		insRP, insRC, insUsed = append(insRP, r.rpID), append(insRC, r.rcID), append(insUsed, r.used)
		insConsumer = append(insConsumer, set[r.consumer].ConsumerUUID)
	}
	if len(insRP) > 0 {
		b.Queue(`
INSERT INTO allocations (created_at, updated_at, resource_provider_id, resource_class_id, consumer_id, used)
SELECT `+now+`, `+now+`, r.rp, r.rc, r.consumer, r.used
FROM unnest($1::int4[], $2::int4[], $3::text[], $4::int4[]) AS r(rp, rc, consumer, used)`,
			insRP, insRC, insConsumer, insUsed)
	}
	providerMissed := false
	for _, id := range rpIDs {
		b.Queue(bumpGenerationSQL, id, gens[id]).QueryRow(func(row pgx.Row) error {
			var bumped int
			err := row.Scan(&bumped)
			providerMissed = providerMissed || bumped == 0
			return err
		})
	}
	hasRows := make([]bool, len(set))
	for _, r := range rows {
		if r.used > 0 {
			hasRows[r.consumer] = true
		}
	}
	consumerMissed := false
	var emptied []string
	for i, ok := range inRows {
		if !ok {
			continue
		}
		queueBumpConsumer(&b, consumers[i], &consumerMissed)
		if !hasRows[i] {
			emptied = append(emptied, set[i].ConsumerUUID)
		}
	}
	queueDeleteConsumersWithoutAllocations(&b, emptied)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	switch {
	case providerMissed:
		return errRetryable
	case consumerMissed:
		return errConsumerChanged()
	}
	return nil
}

// allocationClassIDs sets the rcID of rows from known (class name → id)
// and returns the map of the classes used; the first unknown class, in
// row order, is an Invalid error wrapping ErrAllocationUnknownClass with
// resourceClassByName's message.
func allocationClassIDs(ctx context.Context, tx pgx.Tx, rows []allocRow, known map[string]int) (map[string]int, error) {
	used := map[string]int{}
	for i := range rows {
		r := &rows[i]
		id, ok := known[r.rc]
		if !ok {
			_, err := resourceClassByName(ctx, tx, r.rc)
			var pe *placement.Error
			if errors.As(err, &pe) && pe.Kind == placement.NotFound {
				return nil, &placement.Error{Kind: placement.Invalid, Message: pe.Message, Err: ErrAllocationUnknownClass}
			}
			if err == nil {
				err = errRetryable // created since the prefetch
			}
			return nil, err
		}
		r.rcID, used[r.rc] = id, id
	}
	return used, nil
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

// queueLockProviders queues the locking of the providers; *gens gets their
// current generations.
func queueLockProviders(b *pgx.Batch, ids []int, gens *map[int]int) {
	*gens = make(map[int]int, len(ids))
	if len(ids) == 0 {
		return
	}
	b.Queue(`SELECT id, generation FROM resource_providers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids).Query(func(rows pgx.Rows) error {
		var id, gen int
		_, err := pgx.ForEachRow(rows, []any{&id, &gen}, func() error {
			(*gens)[id] = gen
			return nil
		})
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

func invalidAllocation(format string, args ...any) error {
	e := placement.E(placement.Conflict, format, args...)
	e.Err = ErrAllocationInvalid
	return e
}

// DeleteAllocations removes every allocation of the consumer and then the
// consumer record. Like upstream it checks and bumps no generation. No rows
// is NotFound "No allocations for consumer '<uuid>'".
func (s *Store) DeleteAllocations(ctx context.Context, consumerUUID string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM allocations WHERE consumer_id = $1 RETURNING resource_provider_id`, consumerUUID)
		if err != nil {
			return err
		}
		rpIDs, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		if len(rpIDs) == 0 {
			return notFound("No allocations for consumer '%s'", consumerUUID)
		}
		return deleteConsumersWithoutAllocations(ctx, tx, []string{consumerUUID})
	})
}
