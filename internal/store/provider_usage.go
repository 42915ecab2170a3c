package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// providerUsagesSQL sums allocations per class the provider has inventory
// of; classes without allocations report 0.
const providerUsagesSQL = `SELECT rc.name, COALESCE(u.used, 0)
	FROM inventories inv
	JOIN resource_classes rc ON rc.id = inv.resource_class_id
	LEFT JOIN (SELECT resource_class_id, sum(used) AS used FROM allocations
		WHERE resource_provider_id = $1 GROUP BY resource_class_id) u
		ON u.resource_class_id = inv.resource_class_id
	WHERE inv.resource_provider_id = $1`

// ProviderUsages returns the provider's generation and its usage per
// inventoried resource class (spec 05 §2).
func (s *Store) ProviderUsages(ctx context.Context, uuid string) (int, map[string]int64, error) {
	var gen int
	usages := map[string]int64{}
	err := s.readProviderTx(ctx, uuid, func(tx pgx.Tx, p Provider) error {
		gen = p.Generation
		rows, err := tx.Query(ctx, providerUsagesSQL, p.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var used int64
			if err := rows.Scan(&name, &used); err != nil {
				return err
			}
			usages[name] = used
		}
		return rows.Err()
	})
	return gen, usages, err
}
