package store

import (
	"context"
	"errors"

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

// retryAllocations runs fn in a transaction, retrying as SetAllocations
// describes (withTx itself re-runs it after a deadlock or a serialization
// failure).
func (s *Store) retryAllocations(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.withTx(ctx, fn)
		if !errors.Is(err, errRetryable) {
			return err
		}
		if attempt >= max(s.ConflictRetries, 1) || ctx.Err() != nil {
			return &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate,
				Message: MsgConcurrentUpdate, Err: ErrAllocationConcurrentUpdate}
		}
		s.retried("generation")
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
// generation bumps, whose last batch carries the COMMIT.
func setAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet) error {
	return writeAllocationsTx(ctx, tx, set, nil, true)
}

// writeAllocationsTx is setAllocationsTx with a hook run after the
// consumers are updated and right before the replacement; with commit, its
// last batch commits the transaction. The reshaper (Store.Reshape) calls
// it inside its own transaction, with its interim inventory step (spec 08
// §2) as the hook, and goes on after it.
func writeAllocationsTx(ctx context.Context, tx pgx.Tx, set placement.AllocationSet, beforeReplace func() error, commit bool) error {
	k, err := prefetch(ctx, tx, set)
	if err != nil {
		return err
	}
	consumers := make([]consumer, len(set))
	attrs := make([]consumerAttrs, len(set))
	for i, w := range set {
		// The reshaper's hook runs before the locks, and may need its
		// consumers to exist: its new consumers are inserted here.
		c, a, err := ensureConsumer(ctx, tx, k, w, beforeReplace == nil)
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
	return replaceAllocations(ctx, tx, set, consumers, rows, k.classes, commit)
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
	// Every statement of the write looks rows up by key.
	b.Queue(genericIndexPlans)
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
