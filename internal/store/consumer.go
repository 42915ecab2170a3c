package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// consumer is a row of consumers as the write path needs it.
type consumer struct {
	ID         int
	UUID       string
	ProjectID  int
	UserID     int
	Generation int
	TypeID     *int
	// pending: a new consumer whose INSERT the write sends with its locks
	// (ID is 0 until then); see ensureConsumer.
	pending bool
}

// Queries that create projects, users and consumer types on demand. The
// INSERT waits for a concurrent inserter of the same name and then does
// nothing; the following SELECT (a new statement, so a new snapshot under
// READ COMMITTED) sees the winner's row.
const (
	insertProject      = `INSERT INTO projects (created_at, updated_at, external_id) VALUES (` + now + `, ` + now + `, $1) ON CONFLICT (external_id) DO NOTHING RETURNING id`
	selectProject      = `SELECT id FROM projects WHERE external_id = $1`
	insertUser         = `INSERT INTO users (created_at, updated_at, external_id) VALUES (` + now + `, ` + now + `, $1) ON CONFLICT (external_id) DO NOTHING RETURNING id`
	selectUser         = `SELECT id FROM users WHERE external_id = $1`
	insertConsumerType = `INSERT INTO consumer_types (created_at, updated_at, name) VALUES (` + now + `, ` + now + `, $1) ON CONFLICT (name) DO NOTHING RETURNING id`
	selectConsumerType = `SELECT id FROM consumer_types WHERE name = $1`
)

// ensureID returns the id of the row named key, inserting it if absent.
// ids holds the rows the write's prefetch found (and ensureID adds the
// ones it creates), so a known row costs no round trip.
func ensureID(ctx context.Context, tx pgx.Tx, ids map[string]int, insert, sel, key string) (int, error) {
	if id, ok := ids[key]; ok {
		return id, nil
	}
	// Insert, and look again if a concurrent writer inserted it first.
	var id int
	err := tx.QueryRow(ctx, insert, key).Scan(&id)
	if isNoRows(err) {
		err = tx.QueryRow(ctx, sel, key).Scan(&id)
	}
	if err == nil {
		ids[key] = id
	}
	return id, err
}

const selectConsumer = `SELECT id, uuid, project_id, user_id, generation, consumer_type_id FROM consumers WHERE uuid = $1`

// consumerByUUID loads a consumer; found is false when there is none.
func consumerByUUID(ctx context.Context, tx pgx.Tx, uuid string) (c consumer, found bool, err error) {
	err = tx.QueryRow(ctx, selectConsumer, uuid).Scan(&c.ID, &c.UUID, &c.ProjectID, &c.UserID, &c.Generation, &c.TypeID)
	if isNoRows(err) {
		return c, false, nil
	}
	return c, err == nil, err
}

const insertConsumer = `
INSERT INTO consumers (created_at, updated_at, uuid, project_id, user_id, consumer_type_id, generation)
VALUES (` + now + `, ` + now + `, $1, $2, $3, $4, 0)
ON CONFLICT (uuid) DO NOTHING RETURNING id`

// consumerAttrs are the project, user and type a write asks for.
type consumerAttrs struct {
	ProjectID int
	UserID    int
	TypeID    *int // nil: leave the type alone (writes below 1.38)
}

// ensureConsumer is Phase A of the write path for one consumer write:
// project, user and type exist afterwards, the consumer's generation matches
// what the client expects (1.28+), and the consumer exists (created at
// generation 0 if new). k holds what the write's prefetch found.
//
// With deferNew, a new consumer that gets allocations is not inserted
// here but returned pending: replaceAllocations inserts it in the round
// trip that takes the locks, which saves a round trip per new consumer (a
// scheduler's every claim). If a concurrent writer created it meanwhile,
// that INSERT finds nothing to do and the write starts again, and then
// takes the path below for an existing consumer.
func ensureConsumer(ctx context.Context, tx pgx.Tx, k *known, w placement.ConsumerAllocations, deferNew bool) (consumer, consumerAttrs, error) {
	var attrs consumerAttrs
	var err error
	if attrs.ProjectID, err = ensureID(ctx, tx, k.projects, insertProject, selectProject, w.ProjectID); err != nil {
		return consumer{}, attrs, err
	}
	if attrs.UserID, err = ensureID(ctx, tx, k.users, insertUser, selectUser, w.UserID); err != nil {
		return consumer{}, attrs, err
	}
	c, found := k.consumers[w.ConsumerUUID]
	if !found {
		// Since 1.28 a null consumer_generation means "a brand-new consumer".
		if w.CheckGeneration && w.Generation != nil {
			return c, attrs, consumerGenerationConflict("null", w)
		}
		if err := ensureType(ctx, tx, k, w, &attrs); err != nil {
			return c, attrs, err
		}
		if deferNew && len(w.Allocations) > 0 {
			return consumer{UUID: w.ConsumerUUID, ProjectID: attrs.ProjectID, UserID: attrs.UserID, TypeID: attrs.TypeID, pending: true}, attrs, nil
		}
		err = tx.QueryRow(ctx, insertConsumer, w.ConsumerUUID, attrs.ProjectID, attrs.UserID, attrs.TypeID).Scan(&c.ID)
		if err == nil {
			c = consumer{ID: c.ID, UUID: w.ConsumerUUID, ProjectID: attrs.ProjectID, UserID: attrs.UserID, TypeID: attrs.TypeID}
			k.consumers[w.ConsumerUUID] = c
			return c, attrs, nil
		}
		if !isNoRows(err) {
			return c, attrs, err
		}
		// A concurrent writer created it first: treat it as existing.
		if c, found, err = consumerByUUID(ctx, tx, w.ConsumerUUID); err != nil {
			return c, attrs, err
		}
		if !found {
			return c, attrs, errRetryable
		}
		k.consumers[w.ConsumerUUID] = c
	}
	if w.CheckGeneration && (w.Generation == nil || *w.Generation != c.Generation) {
		return c, attrs, consumerGenerationConflict(itoa(c.Generation), w)
	}
	return c, attrs, ensureType(ctx, tx, k, w, &attrs)
}

func ensureType(ctx context.Context, tx pgx.Tx, k *known, w placement.ConsumerAllocations, attrs *consumerAttrs) error {
	if w.ConsumerType == nil {
		return nil
	}
	id, err := ensureID(ctx, tx, k.types, insertConsumerType, selectConsumerType, *w.ConsumerType)
	attrs.TypeID = &id
	return err
}

// consumerGenerationConflict is the 1.28+ answer to a stale consumer
// generation. Nova looks for the "consumer generation conflict" phrase;
// Python spells a JSON null as None.
func consumerGenerationConflict(expected string, w placement.ConsumerAllocations) error {
	return placement.E(placement.Conflict, "consumer generation conflict - expected %s but got %s", expected, w.GenerationString()).
		WithCode(placement.CodeConcurrentUpdate)
}

// updateConsumer records a different project, user or type on an existing
// consumer without bumping its generation (the write bumps it once anyway).
func updateConsumer(ctx context.Context, tx pgx.Tx, c consumer, a consumerAttrs) error {
	typeID := c.TypeID
	if a.TypeID != nil {
		typeID = a.TypeID
	}
	if a.ProjectID == c.ProjectID && a.UserID == c.UserID && sameTypeID(typeID, c.TypeID) {
		return nil
	}
	_, err := tx.Exec(ctx,
		`UPDATE consumers SET project_id = $2, user_id = $3, consumer_type_id = $4, updated_at = `+now+` WHERE id = $1`,
		c.ID, a.ProjectID, a.UserID, typeID)
	return err
}

func sameTypeID(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func errConsumerChanged() error {
	return &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate,
		Message: MsgConsumerConcurrentUpdate, Err: ErrAllocationConcurrentUpdate}
}

// MsgConsumerConcurrentUpdate is upstream's text for a consumer changed
// between the generation check and the commit.
const MsgConsumerConcurrentUpdate = "Another thread concurrently updated the data. Please retry your update"

// deleteConsumersWithoutAllocations removes the consumers among uuids that
// hold no allocation rows.
func deleteConsumersWithoutAllocations(ctx context.Context, tx pgx.Tx, uuids []string) error {
	var b pgx.Batch
	queueDeleteConsumersWithoutAllocations(&b, uuids)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("delete empty consumers: %w", err)
	}
	return nil
}

func queueDeleteConsumersWithoutAllocations(b *pgx.Batch, uuids []string) {
	if len(uuids) == 0 {
		return
	}
	b.Queue(`
DELETE FROM consumers c WHERE c.uuid = ANY($1)
AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.uuid)`, uuids)
}
