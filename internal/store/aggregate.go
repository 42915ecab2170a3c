package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

const providerAggregatesSQL = `SELECT pa.uuid FROM resource_provider_aggregates rpa
	JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
	WHERE rpa.resource_provider_id = $1 ORDER BY pa.uuid`

// ProviderAggregates returns the provider's generation and the uuids of its
// aggregates (spec 05 §1.1).
func (s *Store) ProviderAggregates(ctx context.Context, uuid string) (int, []string, error) {
	var gen int
	var aggs []string
	err := s.readProviderTx(ctx, uuid, func(tx pgx.Tx, p Provider) error {
		gen = p.Generation
		rows, err := tx.Query(ctx, providerAggregatesSQL, p.ID)
		if err != nil {
			return err
		}
		aggs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if aggs == nil {
		aggs = []string{}
	}
	return gen, aggs, err
}

// SetProviderAggregates replaces the provider's aggregate associations,
// creating unknown aggregates (spec 05 §1.2). With generation non-nil
// (1.19+) it must match and the generation is bumped (always); nil leaves
// the generation alone. It returns the resulting generation.
func (s *Store) SetProviderAggregates(ctx context.Context, uuid string, aggs []string, generation *int) (int, error) {
	var gen int
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		// One round trip: the change (generation bump or change-log row)
		// and the writes, which find the provider by uuid. With a
		// generation, the bump fails unless it matches, so the batch may
		// carry the COMMIT; without one, a missing provider is found
		// after the batch and rolls it back.
		var (
			b  pgx.Batch
			id *int
		)
		// The aggregate insert was planned afresh on every call (its
		// anti-join on the uuid index is the generic plan too).
		b.Queue(genericPlans)
		if generation != nil {
			b.Queue(bumpOrFailByUUIDSQL, uuid, *generation)
			gen = *generation + 1
		} else {
			b.Queue(`SELECT id, generation FROM resource_providers WHERE uuid = $1`, uuid).Query(func(rows pgx.Rows) error {
				_, err := pgx.ForEachRow(rows, []any{&id, &gen}, func() error { return nil })
				return err
			})
		}
		// ON CONFLICT makes concurrent creation of the same aggregate safe.
		b.Queue(`INSERT INTO placement_aggregates (uuid, created_at)
			SELECT a.uuid, `+now+` FROM unnest($1::text[]) a(uuid)
			WHERE NOT EXISTS (SELECT 1 FROM placement_aggregates pa WHERE pa.uuid = a.uuid)
			ON CONFLICT (uuid) DO NOTHING`, aggs)
		// NOT IN a subquery: PostgreSQL hashes the ids to keep once. (A
		// correlated "pa.uuid = ANY($2)" scanned the whole array for each
		// association: 20,000 aggregates took 2 s.)
		b.Queue(`DELETE FROM resource_provider_aggregates rpa
			USING resource_providers rp
			WHERE rp.uuid = $1 AND rpa.resource_provider_id = rp.id AND rpa.aggregate_id NOT IN (
				SELECT pa.id FROM placement_aggregates pa WHERE pa.uuid = ANY($2))`, uuid, aggs)
		b.Queue(`INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at)
			SELECT rp.id, pa.id, `+now+` FROM resource_providers rp, placement_aggregates pa
			WHERE rp.uuid = $1 AND pa.uuid = ANY($2)
			ON CONFLICT DO NOTHING`, uuid, aggs)
		if generation != nil {
			commitWithNextBatch(tx)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		if generation == nil && id == nil {
			return providerNotFound(uuid)
		}
		return nil
	})
	if !bumpMissed(err) {
		return gen, err
	}
	// Nothing was bumped: no such provider, or a stale generation.
	p, err := providerByUUID(ctx, s.db, uuid)
	if err != nil {
		return 0, err
	}
	if *generation != p.Generation {
		return 0, errConcurrentUpdate(MsgGenerationChanged)
	}
	return 0, errConcurrentUpdate("Update conflict: " + MsgConcurrentUpdate)
}
