package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// InventoryUsage is one inventory with its provider and usage, as
// ProviderUsages and the inventories endpoints report them.
type InventoryUsage struct {
	ProviderUUID string
	ProviderName string
	Class        string
	placement.Inventory
	Used int64
}

// inventoryUsagesSQL lists every inventory, of class $1 ("" for every
// class), of the providers directly in aggregate $2 ("" for every
// provider), with the sum of its allocations.
const inventoryUsagesSQL = `SELECT rp.uuid, rp.name, rc.name, inv.total, inv.reserved, inv.min_unit,
		inv.max_unit, inv.step_size, inv.allocation_ratio, COALESCE(u.used, 0)
	FROM inventories inv
	JOIN resource_providers rp ON rp.id = inv.resource_provider_id
	JOIN resource_classes rc ON rc.id = inv.resource_class_id
	LEFT JOIN (SELECT resource_provider_id, resource_class_id, sum(used) AS used
		FROM allocations GROUP BY resource_provider_id, resource_class_id) u
		ON u.resource_provider_id = inv.resource_provider_id AND u.resource_class_id = inv.resource_class_id
	WHERE ($1 = '' OR rc.name = $1)
	  AND ($2 = '' OR EXISTS (SELECT 1 FROM resource_provider_aggregates rpa
		JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
		WHERE rpa.resource_provider_id = rp.id AND pa.uuid = $2))
	ORDER BY rc.name, rp.name, rp.uuid`

const classExistsSQL = `SELECT EXISTS (SELECT 1 FROM resource_classes WHERE name = $1)`

// InventoryUsages returns every inventory with its usage, ordered by class
// and provider name, in one read-only transaction: of class class ("" for
// all; an unknown class is a NotFound error) and of the providers directly
// in aggregate aggregate ("" for all).
func (s *Store) InventoryUsages(ctx context.Context, aggregate, class string) ([]InventoryUsage, error) {
	var out []InventoryUsage
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if class != "" {
			var known bool
			if err := tx.QueryRow(ctx, classExistsSQL, class).Scan(&known); err != nil {
				return err
			}
			if !known {
				return placement.E(placement.NotFound, "No such resource class %s.", class)
			}
		}
		rows, err := tx.Query(ctx, inventoryUsagesSQL, class, aggregate)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (InventoryUsage, error) {
			var u InventoryUsage
			err := row.Scan(&u.ProviderUUID, &u.ProviderName, &u.Class, &u.Total, &u.Reserved, &u.MinUnit,
				&u.MaxUnit, &u.StepSize, &u.AllocationRatio, &u.Used)
			return u, err
		})
		return err
	})
	return out, err
}
