package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// ReshapeInventory is one provider's complete new inventory in a reshape,
// with the provider generation the client saw.
type ReshapeInventory struct {
	ProviderUUID string
	Generation   int
	// GenerationText is Generation as the client wrote it ("5.0"), for
	// the conflict message; empty: the integer.
	GenerationText string
	Inventories    map[string]placement.Inventory // class name → record; empty removes all
}

// Reshape atomically replaces the inventories of the providers in invs and
// the allocations of the consumers in set (POST /reshaper, spec 08 §2):
// the providers' generations are checked, the consumers are handled as in
// SetAllocations, each provider with a non-empty new inventory first gets
// the union of its current and new inventory (so that allocations can move
// onto new classes), the allocations are replaced through the one write
// path, and finally every listed provider gets exactly its new inventory.
// Each step bumps the provider generation. Everything is one transaction;
// conflicts are not retried.
//
// Errors carry the reshaper's wording except where the handler adds a
// prefix: ErrAllocationUnknownClass (unknown class in inventories or
// allocations), ErrAllocationInvalid and ErrAllocationConcurrentUpdate, as
// for SetAllocations.
func (s *Store) Reshape(ctx context.Context, invs []ReshapeInventory, set placement.AllocationSet) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		providers := make([]Provider, len(invs))
		for i, ri := range invs {
			p, err := providerByUUID(ctx, tx, ri.ProviderUUID)
			if placement.KindOf(err) == placement.NotFound {
				return placement.E(placement.Invalid, "Resource provider %s in inventories not found: %v", ri.ProviderUUID, err).
					WithCode(placement.CodeProviderNotFound)
			}
			if err != nil {
				return err
			}
			if ri.Generation != p.Generation {
				given := ri.GenerationText
				if given == "" {
					given = itoa(ri.Generation)
				}
				return placement.E(placement.Conflict, "resource provider generation conflict for provider %s: actual: %d, given: %s",
					ri.ProviderUUID, p.Generation, given).WithCode(placement.CodeConcurrentUpdate)
			}
			providers[i] = p
		}
		interim := func() error {
			for i, ri := range invs {
				if len(ri.Inventories) == 0 {
					continue
				}
				merged, err := inventoriesByClass(ctx, tx, providers[i].ID)
				if err != nil {
					return err
				}
				for rc, inv := range ri.Inventories {
					merged[rc] = inv
				}
				if err := setInventoryAndBump(ctx, tx, providers[i], merged); err != nil {
					return err
				}
			}
			return nil
		}
		if err := writeAllocationsTx(ctx, tx, set, interim, false); err != nil {
			return err
		}
		for i, ri := range invs {
			if err := setInventoryAndBump(ctx, tx, providers[i], ri.Inventories); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errUnknownProvider):
		return s.leaveGhostConsumers(ctx, set, err)
	case errors.Is(err, errRetryable):
		return &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate,
			Message: MsgConcurrentUpdate, Err: ErrAllocationConcurrentUpdate}
	case placement.KindOf(err) == placement.NotFound:
		// replaceInventories: "No such resource class X."
		var pe *placement.Error
		errors.As(err, &pe)
		return &placement.Error{Kind: placement.Invalid, Message: pe.Message, Err: ErrAllocationUnknownClass}
	}
	return err
}

// setInventoryAndBump replaces p's inventory and bumps its generation from
// the value current in this transaction.
func setInventoryAndBump(ctx context.Context, tx pgx.Tx, p Provider, invs map[string]placement.Inventory) error {
	if err := replaceInventories(ctx, tx, p, invs, false, nil); err != nil {
		return err
	}
	var gen int
	if err := tx.QueryRow(ctx, `SELECT generation FROM resource_providers WHERE id = $1`, p.ID).Scan(&gen); err != nil {
		return err
	}
	if _, err := bumpGeneration(ctx, tx, p.ID, gen, MsgConcurrentUpdate); err != nil {
		var pe *placement.Error
		if errors.As(err, &pe) && pe.Kind == placement.Conflict {
			pe.Err = ErrAllocationConcurrentUpdate
		}
		return err
	}
	return nil
}

// inventoriesByClass reads provider id's inventory inside tx.
func inventoriesByClass(ctx context.Context, tx pgx.Tx, id int) (map[string]placement.Inventory, error) {
	rows, err := tx.Query(ctx, `
SELECT rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio
FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id
WHERE i.resource_provider_id = $1`, id)
	if err != nil {
		return nil, err
	}
	out := map[string]placement.Inventory{}
	var name string
	var inv placement.Inventory
	_, err = pgx.ForEachRow(rows, []any{&name, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize, &inv.AllocationRatio}, func() error {
		out[name] = inv
		return nil
	})
	return out, err
}
