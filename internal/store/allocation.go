package store

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
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

// errUnknownProvider marks the 400 of a write naming a provider that does
// not exist.
var errUnknownProvider = errors.New("unknown provider")

// leaveGhostConsumers reproduces upstream quirk Q1 (spec 06 §13) after a
// write failed with cause, the "provider does not exist" 400: upstream has
// already committed the consumers (and projects, users, types) of the
// write and does not remove them on this path, so a new consumer is left
// at generation 0 without allocations and the next 1.28+ write must send
// consumer_generation 0. Existing consumers are left unchanged. Returns
// cause unless the database fails.
func (s *Store) leaveGhostConsumers(ctx context.Context, set placement.AllocationSet, cause error) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		for _, w := range set {
			var attrs consumerAttrs
			var err error
			if attrs.ProjectID, err = ensureID(ctx, tx, insertProject, selectProject, w.ProjectID); err != nil {
				return err
			}
			if attrs.UserID, err = ensureID(ctx, tx, insertUser, selectUser, w.UserID); err != nil {
				return err
			}
			if err := ensureType(ctx, tx, w, &attrs); err != nil {
				return err
			}
			var id int
			err = tx.QueryRow(ctx, insertConsumer, w.ConsumerUUID, attrs.ProjectID, attrs.UserID, attrs.TypeID).Scan(&id)
			if err != nil && !isNoRows(err) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return cause
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
		case pgCode(err) == serializationFailure || pgCode(err) == deadlockDetected:
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

// setAllocationsTx is the body of the write path inside tx: Phase A
// (projects, users, types, consumers and their generations), Phase B
// (providers and rows), then the replacement with capacity checks and
// generation bumps. The reshaper calls it inside its own transaction.
func setAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet) error {
	return writeAllocationsTx(ctx, tx, set, nil)
}

// writeAllocationsTx is setAllocationsTx with a hook run after the
// consumers are updated and right before the replacement: the reshaper's
// interim inventory step (spec 08 §2).
func writeAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, beforeReplace func() error) error {
	consumers := make([]consumer, len(set))
	attrs := make([]consumerAttrs, len(set))
	for i, w := range set {
		c, a, err := ensureConsumer(ctx, tx, w)
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
			rows = append(rows, old...)
			continue
		}
		rp, rpUUID := 0, ""
		for _, k := range w.Rows() { // body order: the first failing row names the error
			if k.Provider != rpUUID {
				rpUUID = k.Provider
				var err error
				if rp, err = providerIDByUUID(ctx, tx, rpUUID); err != nil {
					return err
				}
			}
			rows = append(rows, allocRow{consumer: i, rpID: rp, rpUUID: rpUUID, rc: k.Class, used: w.Allocations[rpUUID][k.Class]})
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
	return replaceAllocations(ctx, tx, set, consumers, rows)
}

// providerIDByUUID resolves a provider named in an allocation body.
func providerIDByUUID(ctx context.Context, tx pgx.Tx, uuid string) (int, error) {
	var id int
	err := tx.QueryRow(ctx, `SELECT id FROM resource_providers WHERE uuid = $1`, uuid).Scan(&id)
	if isNoRows(err) {
		return 0, &placement.Error{Kind: placement.Invalid, Err: errUnknownProvider,
			Message: "Allocation for resource provider '" + uuid + "' that does not exist."}
	}
	return id, err
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
// them and bumps provider and consumer generations.
//
// The providers are locked (in id order, to avoid deadlocks) before usage
// is read, so concurrent claims on one provider queue up instead of failing
// each other's generation compare-and-swap; the CAS stays as the guard that
// makes a write without the lock (inventory changes) surface as a retry.
func replaceAllocations(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, consumers []consumer, rows []allocRow) error {
	rpIDs := distinctProviders(rows)
	gens, err := lockProviders(ctx, tx, rpIDs)
	if err != nil {
		return err
	}

	inRows := make([]bool, len(set))
	for _, r := range rows {
		inRows[r.consumer] = true
	}
	var touched []string
	for i, ok := range inRows {
		if ok {
			touched = append(touched, set[i].ConsumerUUID)
		}
	}
	if len(touched) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM allocations WHERE consumer_id = ANY($1)`, touched); err != nil {
			return err
		}
	}

	classIDs, err := allocationClassIDs(ctx, tx, rows)
	if err != nil {
		return err
	}

	invs, usage, err := inventoriesAndUsage(ctx, tx, rpIDs, classIDs)
	if err != nil {
		return err
	}
	if err := checkRows(rows, classIDs, invs, usage); err != nil {
		return err
	}

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
		if _, err := tx.Exec(ctx, `
INSERT INTO allocations (created_at, updated_at, resource_provider_id, resource_class_id, consumer_id, used)
SELECT `+now+`, `+now+`, r.rp, r.rc, r.consumer, r.used
FROM unnest($1::int4[], $2::int4[], $3::text[], $4::int4[]) AS r(rp, rc, consumer, used)`,
			insRP, insRC, insConsumer, insUsed); err != nil {
			return err
		}
	}

	for _, id := range rpIDs {
		if _, err := bumpGeneration(ctx, tx, id, gens[id], MsgConcurrentUpdate); err != nil {
			if placement.KindOf(err) == placement.Conflict {
				return errRetryable
			}
			return err
		}
	}
	hasRows := make([]bool, len(set))
	for _, r := range rows {
		if r.used > 0 {
			hasRows[r.consumer] = true
		}
	}
	var emptied []string
	for i, ok := range inRows {
		if !ok {
			continue
		}
		if err := bumpConsumer(ctx, tx, consumers[i]); err != nil {
			return err
		}
		if !hasRows[i] {
			emptied = append(emptied, set[i].ConsumerUUID)
		}
	}
	return deleteConsumersWithoutAllocations(ctx, tx, emptied)
}

// allocationClassIDs resolves the classes of rows in one query and sets
// their rcID; the first unknown class, in row order, is an Invalid error
// wrapping ErrAllocationUnknownClass with resourceClassByName's message.
func allocationClassIDs(ctx context.Context, tx pgx.Tx, rows []allocRow) (map[string]int, error) {
	var names []string
	for _, r := range rows {
		names = append(names, r.rc)
	}
	classIDs, err := idsByName(ctx, tx, `SELECT name, id FROM resource_classes WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	used := map[string]int{}
	for i := range rows {
		r := &rows[i]
		id, ok := classIDs[r.rc]
		if !ok {
			_, err := resourceClassByName(ctx, tx, r.rc)
			var pe *placement.Error
			if errors.As(err, &pe) && pe.Kind == placement.NotFound {
				return nil, &placement.Error{Kind: placement.Invalid, Message: pe.Message, Err: ErrAllocationUnknownClass}
			}
			if err == nil {
				err = errRetryable // created since the query above
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

// lockProviders locks the providers and returns their current generations.
func lockProviders(ctx context.Context, tx pgx.Tx, ids []int) (map[int]int, error) {
	gens := make(map[int]int, len(ids))
	if len(ids) == 0 {
		return gens, nil
	}
	rows, err := tx.Query(ctx,
		`SELECT id, generation FROM resource_providers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids)
	if err != nil {
		return nil, err
	}
	var id, gen int
	_, err = pgx.ForEachRow(rows, []any{&id, &gen}, func() error {
		gens[id] = gen
		return nil
	})
	if err == nil && len(gens) != len(ids) {
		// A provider was deleted since Phase B resolved it.
		return nil, errRetryable
	}
	return gens, err
}

// inventoriesAndUsage reads the inventory of every (provider, class) pair of
// the write and the usage of all other consumers (the written consumers'
// rows are already deleted).
func inventoriesAndUsage(ctx context.Context, tx pgx.Tx, rpIDs []int, classIDs map[string]int) (map[invKey]placement.Inventory, map[invKey]int64, error) {
	invs := map[invKey]placement.Inventory{}
	usage := map[invKey]int64{}
	if len(rpIDs) == 0 {
		return invs, usage, nil
	}
	rcIDs := make([]int, 0, len(classIDs))
	for _, id := range classIDs {
		rcIDs = append(rcIDs, id)
	}
	rows, err := tx.Query(ctx, `
SELECT i.resource_provider_id, i.resource_class_id, i.total, i.reserved, i.min_unit, i.max_unit,
       i.step_size, i.allocation_ratio,
       COALESCE((SELECT SUM(a.used) FROM allocations a
                 WHERE a.resource_provider_id = i.resource_provider_id
                   AND a.resource_class_id = i.resource_class_id), 0)
FROM inventories i
WHERE i.resource_provider_id = ANY($1) AND i.resource_class_id = ANY($2)`, rpIDs, rcIDs)
	if err != nil {
		return nil, nil, err
	}
	var k invKey
	var inv placement.Inventory
	var used int64
	_, err = pgx.ForEachRow(rows, []any{&k.rp, &k.rc, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit,
		&inv.StepSize, &inv.AllocationRatio, &used}, func() error {
		invs[k], usage[k] = inv, used
		return nil
	})
	return invs, usage, err
}

// checkRows applies the capacity rule to the rows in order; the first
// failing row decides the message. Removal rows (used 0) are never checked
// but their provider still needs some inventory of the write's classes.
func checkRows(rows []allocRow, classIDs map[string]int, invs map[invKey]placement.Inventory, usage map[invKey]int64) error {
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
		if !inv.FitsCapacity(usage[k], running[k]) {
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
	for _, id := range pythonIntSetOrder(ids) {
		out = append(out, names[id])
	}
	return out
}

// pythonIntSetOrder returns the distinct non-negative ints of ids in the
// iteration order of CPython's set(ids): open addressing on hash(i) = i,
// linear probes only when they fit before the end of the table, perturbed
// probing otherwise, growth to 4×used once the table is 3/5 full.
func pythonIntSetOrder(ids []int) []int {
	const linearProbes, perturbShift = 9, 5
	table := make([]int, 8)
	for i := range table {
		table[i] = -1
	}
	fill := 0
	insert := func(table []int, key int) bool {
		mask := len(table) - 1
		i, perturb := key&mask, uint(key)
		for {
			probes := 0
			if i+linearProbes <= mask {
				probes = linearProbes
			}
			for j := i; j <= i+probes; j++ {
				switch table[j] {
				case key:
					return false
				case -1:
					table[j] = key
					return true
				}
			}
			perturb >>= perturbShift
			i = (i*5 + 1 + int(perturb)) & mask
		}
	}
	for _, id := range ids {
		if id < 0 || !insert(table, id) {
			continue
		}
		fill++
		if fill*5 < (len(table)-1)*3 {
			continue
		}
		size := 8
		for size <= fill*4 {
			size <<= 1
		}
		grown := make([]int, size)
		for i := range grown {
			grown[i] = -1
		}
		for _, k := range table {
			if k >= 0 {
				insert(grown, k)
			}
		}
		table = grown
	}
	out := make([]int, 0, fill)
	for _, k := range table {
		if k >= 0 {
			out = append(out, k)
		}
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
		if err := logChanges(ctx, tx, rpIDs); err != nil {
			return err
		}
		return deleteConsumersWithoutAllocations(ctx, tx, []string{consumerUUID})
	})
}

// Allocation is one stored allocation row with what the GET endpoints show.
type Allocation struct {
	ProviderUUID       string
	ProviderGeneration int
	ConsumerUUID       string
	ConsumerGeneration int
	ResourceClass      string
	Used               int
	CreatedAt          time.Time
}

// ConsumerAllocationList is a consumer's allocations with the consumer's
// attributes (meaningless when Allocations is empty).
type ConsumerAllocationList struct {
	Allocations  []Allocation
	ProjectID    string
	UserID       string
	Generation   int
	ConsumerType *string // nil: no type recorded ("unknown")
}

// AllocationsForConsumer returns the allocations of the consumer whose uuid
// is exactly consumerUUID; an unknown consumer has none.
func (s *Store) AllocationsForConsumer(ctx context.Context, consumerUUID string) (ConsumerAllocationList, error) {
	var out ConsumerAllocationList
	rows, err := s.pool.Query(ctx, `
SELECT rp.uuid, rp.generation, rc.name, a.used, COALESCE(a.created_at, `+now+`),
       c.generation, p.external_id, u.external_id, ct.name
FROM allocations a
JOIN resource_providers rp ON rp.id = a.resource_provider_id
JOIN resource_classes rc ON rc.id = a.resource_class_id
JOIN consumers c ON c.uuid = a.consumer_id
JOIN projects p ON p.id = c.project_id
JOIN users u ON u.id = c.user_id
LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
WHERE a.consumer_id = $1
ORDER BY rp.uuid, rc.name`, consumerUUID)
	if err != nil {
		return out, err
	}
	var a Allocation
	_, err = pgx.ForEachRow(rows, []any{&a.ProviderUUID, &a.ProviderGeneration, &a.ResourceClass, &a.Used, &a.CreatedAt,
		&out.Generation, &out.ProjectID, &out.UserID, &out.ConsumerType}, func() error {
		a.ConsumerUUID = consumerUUID
		a.ConsumerGeneration = out.Generation
		out.Allocations = append(out.Allocations, a)
		return nil
	})
	return out, err
}

// AllocationsForProvider returns the provider and its allocations. An
// unknown provider is NotFound "Resource provider '<uuid>' not found: No
// resource provider with uuid <uuid> found".
func (s *Store) AllocationsForProvider(ctx context.Context, rpUUID string) (Provider, []Allocation, error) {
	var out []Allocation
	var rp Provider
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		rp, err = providerByUUID(ctx, tx, rpUUID)
		if placement.KindOf(err) == placement.NotFound {
			return notFound("Resource provider '%s' not found: %v", rpUUID, err)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
SELECT c.uuid, c.generation, rc.name, a.used, COALESCE(a.created_at, `+now+`)
FROM allocations a
JOIN resource_classes rc ON rc.id = a.resource_class_id
JOIN consumers c ON c.uuid = a.consumer_id
JOIN projects p ON p.id = c.project_id
JOIN users u ON u.id = c.user_id
WHERE a.resource_provider_id = $1
ORDER BY c.uuid, rc.name`, rp.ID)
		if err != nil {
			return err
		}
		var a Allocation
		_, err = pgx.ForEachRow(rows, []any{&a.ConsumerUUID, &a.ConsumerGeneration, &a.ResourceClass, &a.Used, &a.CreatedAt}, func() error {
			a.ProviderUUID, a.ProviderGeneration = rp.UUID, rp.Generation
			out = append(out, a)
			return nil
		})
		return err
	})
	return rp, out, err
}
