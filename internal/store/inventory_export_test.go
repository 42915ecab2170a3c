package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// ReplaceInventoriesForTest runs replaceInventories in its own transaction,
// the way the reshaper calls it inside its own.
func (s *Store) ReplaceInventoriesForTest(ctx context.Context, uuid string, invs map[string]placement.Inventory) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		return replaceInventories(ctx, tx, p, invs, false, nil)
	})
}
