package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// Provider is a row of resource_providers with its parent and root uuids.
type Provider struct {
	ID         int
	UUID       string
	Name       string
	Generation int
	ParentID   *int
	RootID     int
	ParentUUID *string
	RootUUID   string
	CreatedAt  *time.Time
	UpdatedAt  *time.Time
}

// LastModified is updated_at, or created_at when the row was never updated.
func (p Provider) LastModified() time.Time { return stamp(p.CreatedAt, p.UpdatedAt) }

// providerColumns selects a Provider from "rp" joined to its parent "pp" and
// root "rr"; scanProvider reads them.
const providerColumns = `rp.id, rp.uuid, rp.name, rp.generation, rp.parent_provider_id,
	COALESCE(rp.root_provider_id, rp.id), pp.uuid, COALESCE(rr.uuid, rp.uuid), rp.created_at, rp.updated_at`

const providerFrom = `resource_providers rp
	LEFT JOIN resource_providers pp ON pp.id = rp.parent_provider_id
	LEFT JOIN resource_providers rr ON rr.id = rp.root_provider_id`

func scanProvider(row pgx.CollectableRow) (Provider, error) {
	var p Provider
	var name *string
	var gen *int
	err := row.Scan(&p.ID, &p.UUID, &name, &gen, &p.ParentID, &p.RootID, &p.ParentUUID, &p.RootUUID, &p.CreatedAt, &p.UpdatedAt)
	if name != nil {
		p.Name = *name
	}
	if gen != nil {
		p.Generation = *gen
	}
	return p, err
}

// providerNotFound is the message most provider sub-resources use.
func providerNotFound(uuid string) error {
	return notFound("No resource provider with uuid %s found", uuid)
}

// providerByUUID loads one provider; a missing one is NotFound with the
// common message.
func providerByUUID(ctx context.Context, q querier, uuid string) (Provider, error) {
	rows, err := q.Query(ctx, `SELECT `+providerColumns+` FROM `+providerFrom+` WHERE rp.uuid = $1`, uuid)
	if err != nil {
		return Provider{}, err
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanProvider)
	if isNoRows(err) {
		return p, providerNotFound(uuid)
	}
	return p, err
}

// ProviderByUUID returns the provider with the given uuid, or NotFound
// "No resource provider with uuid <uuid> found".
func (s *Store) ProviderByUUID(ctx context.Context, uuid string) (Provider, error) {
	return providerByUUID(ctx, s.db, uuid)
}

// bumpGeneration increments the generation of provider id from gen to
// gen+1 and stamps updated_at. Zero rows means another writer changed the
// provider since gen was read: a Conflict with placement.concurrent_update
// carrying msg.
func bumpGeneration(ctx context.Context, tx pgx.Tx, id, gen int, msg string) (int, error) {
	var bumped int
	if err := tx.QueryRow(ctx, bumpGenerationSQL, id, gen).Scan(&bumped); err != nil {
		return 0, err
	}
	if bumped == 0 {
		return 0, errConcurrentUpdate(msg)
	}
	return gen + 1, nil
}

// errConcurrentUpdate is the 409 placement.concurrent_update of a write
// that found its data changed under it, with msg (usually
// MsgConcurrentUpdate, with the prefix some endpoints add).
func errConcurrentUpdate(msg string) error {
	return placement.E(placement.Conflict, "%s", msg).WithCode(placement.CodeConcurrentUpdate)
}

// uuidBump is bumpGeneration for a provider known by uuid, without
// reading it first, queued in a batch ahead of the statements that need
// its lock (queue), then checked once the batch has run (result).
type uuidBump struct {
	uuid string
	gen  int
	msg  string // the Conflict message of a lost race or a stale gen
	id   *int   // the provider's id, when it was bumped
}

func (u *uuidBump) queue(b *pgx.Batch) {
	b.Queue(bumpGenerationByUUIDSQL, u.uuid, u.gen).Query(func(rows pgx.Rows) error {
		var err error
		u.id, err = pgx.CollectExactlyOneRow(rows, pgx.RowTo[*int])
		if isNoRows(err) {
			return nil
		}
		return err
	})
}

// result returns the bumped provider's id. NotFound if there is no such
// provider; a Conflict wrapping ErrStaleGeneration if its generation is
// not gen.
func (u *uuidBump) result(ctx context.Context, tx pgx.Tx) (int, error) {
	if u.id != nil {
		return *u.id, nil
	}
	var current int
	err := tx.QueryRow(ctx, `SELECT COALESCE(generation, 0) FROM resource_providers WHERE uuid = $1`, u.uuid).Scan(&current)
	switch {
	case isNoRows(err):
		return 0, providerNotFound(u.uuid)
	case err != nil:
		return 0, err
	case current != u.gen:
		return 0, &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate, Message: u.msg, Err: ErrStaleGeneration}
	}
	return 0, errConcurrentUpdate(u.msg)
}

// ErrStaleGeneration marks the conflict of a write that named a provider
// generation other than the provider's (rather than one that lost a race);
// endpoints that word the two differently test for it with errors.Is.
var ErrStaleGeneration = errors.New("stale provider generation")

// Messages for generation conflicts, as upstream words them.
const (
	// MsgGenerationChanged answers a stale generation sent by the client.
	MsgGenerationChanged = "Resource provider's generation already changed. Please update the generation and try again."
	// MsgConcurrentUpdate answers a change detected while writing.
	MsgConcurrentUpdate = "Another thread concurrently updated the resource provider data. Please retry your update"
)

// The compare-and-swap of the provider generation: bumpGenerationSQL (by id) returns the number of
// providers bumped (0 or 1), bumpGenerationByUUIDSQL the id (no row when
// nothing was bumped). bumpOrFailSQL and bumpOrFailByUUIDSQL fail with
// division_by_zero (errBumpMissed) when nothing was bumped, so that a
// batch carrying the COMMIT stops there and commits nothing: the writes
// queued after the bump need no check in Go.
var (
	bumpGenerationSQL       = bumpStatement("id", "SELECT count(*) FROM bumped")
	bumpGenerationByUUIDSQL = bumpStatement("uuid", "SELECT id FROM bumped")
	bumpOrFailSQL           = bumpStatement("id", "SELECT 1 / count(*) FROM bumped")
	bumpOrFailByUUIDSQL     = bumpStatement("uuid", "SELECT 1 / count(*) FROM bumped")
)

// bumpMissed reports whether err is the failure of bumpOrFailSQL or
// bumpOrFailByUUIDSQL: no provider had the key and the generation.
func bumpMissed(err error) bool {
	return pgCode(err) == pgerrcode.DivisionByZero
}

// bumpStatement bumps the provider whose column key is $1 from generation
// $2 and ends with the query result. $2 is a bigint: a client's generation
// beyond the integer column's range is just one that does not match.
func bumpStatement(key, result string) string {
	return `
WITH bumped AS (
	UPDATE resource_providers SET generation = generation + 1, updated_at = ` + now + `
	WHERE ` + key + ` = $1 AND generation = $2::bigint RETURNING id
)
` + result
}
