package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

const providerAggregatesSQL = `SELECT pa.uuid FROM resource_provider_aggregates rpa
	JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
	WHERE rpa.resource_provider_id = $1 ORDER BY pa.uuid`

// ProviderAggregates returns the provider's generation and the uuids of its
// aggregates (spec 05 §1.1).
func (s *Store) ProviderAggregates(ctx context.Context, uuid string) (int, []string, error) {
	var gen int
	var aggs []string
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
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
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		gen = p.Generation
		if generation != nil {
			if *generation != p.Generation {
				return placement.E(placement.Conflict, "%s", MsgGenerationChanged).WithCode(placement.CodeConcurrentUpdate)
			}
			if gen, err = bumpGeneration(ctx, tx, p.ID, p.Generation, "Update conflict: "+MsgConcurrentUpdate); err != nil {
				return err
			}
		} else if err := logChanges(ctx, tx, []int{p.ID}); err != nil {
			return err
		}
		// ON CONFLICT makes concurrent creation of the same aggregate safe.
		if _, err := tx.Exec(ctx, `INSERT INTO placement_aggregates (uuid, created_at)
			SELECT a.uuid, `+now+` FROM unnest($1::text[]) a(uuid)
			WHERE NOT EXISTS (SELECT 1 FROM placement_aggregates pa WHERE pa.uuid = a.uuid)
			ON CONFLICT (uuid) DO NOTHING`, aggs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM resource_provider_aggregates rpa
			WHERE rpa.resource_provider_id = $1 AND NOT EXISTS (
				SELECT 1 FROM placement_aggregates pa WHERE pa.id = rpa.aggregate_id AND pa.uuid = ANY($2))`, p.ID, aggs); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at)
			SELECT $1, pa.id, `+now+` FROM placement_aggregates pa WHERE pa.uuid = ANY($2)
			ON CONFLICT DO NOTHING`, p.ID, aggs)
		return err
	})
	return gen, err
}
