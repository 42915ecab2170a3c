package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

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
		k := newKnown()
		for _, w := range set {
			var attrs consumerAttrs
			var err error
			if attrs.ProjectID, err = ensureID(ctx, tx, k.projects, insertProject, selectProject, w.ProjectID); err != nil {
				return err
			}
			if attrs.UserID, err = ensureID(ctx, tx, k.users, insertUser, selectUser, w.UserID); err != nil {
				return err
			}
			if err := ensureType(ctx, tx, k, w, &attrs); err != nil {
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
