package store

import (
	"context"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// ResourceClass is a row of resource_classes.
type ResourceClass struct {
	ID           int
	Name         string
	LastModified time.Time
}

// Standard reports whether the class is a standard one (id < 10000).
func (rc ResourceClass) Standard() bool { return rc.ID < placement.CustomResourceClassMinID }

// ResourceClasses returns every class ordered by id.
func (s *Store) ResourceClasses(ctx context.Context) ([]ResourceClass, error) {
	rows, err := s.db.Query(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanResourceClass)
}

func scanResourceClass(row pgx.CollectableRow) (ResourceClass, error) {
	var rc ResourceClass
	var created, updated *time.Time
	err := row.Scan(&rc.ID, &rc.Name, &created, &updated)
	rc.LastModified = stamp(created, updated)
	return rc, err
}

// ResourceClassByName returns the class called name, or NotFound
// "No such resource class <name>.".
func (s *Store) ResourceClassByName(ctx context.Context, name string) (ResourceClass, error) {
	return resourceClassByName(ctx, s.db, name)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func resourceClassByName(ctx context.Context, q querier, name string) (ResourceClass, error) {
	rows, err := q.Query(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes WHERE name = $1`, name)
	if err != nil {
		return ResourceClass{}, err
	}
	rc, err := pgx.CollectExactlyOneRow(rows, scanResourceClass)
	if isNoRows(err) {
		return rc, notFound("No such resource class %s.", name)
	}
	return rc, err
}

// CreateResourceClass adds a custom class with the next free custom id. A
// duplicate name is Conflict "Conflicting resource class already exists".
func (s *Store) CreateResourceClass(ctx context.Context, name string) error {
	created, err := s.insertResourceClass(ctx, name)
	if err == nil && !created {
		return placement.E(placement.Conflict, "Conflicting resource class already exists: %s", name)
	}
	return err
}

// EnsureResourceClass creates the custom class if it does not exist and
// reports whether it did.
func (s *Store) EnsureResourceClass(ctx context.Context, name string) (created bool, err error) {
	return s.insertResourceClass(ctx, name)
}

// insertResourceClass assigns max(id)+1 (at least 10000) as upstream does,
// retrying when a concurrent create took the same id.
func (s *Store) insertResourceClass(ctx context.Context, name string) (bool, error) {
	const q = `
INSERT INTO resource_classes (created_at, id, name)
SELECT ` + now + `, GREATEST(COALESCE(MAX(id) + 1, 0), $2), $1 FROM resource_classes`
	for attempt := 0; attempt < 100; attempt++ {
		_, err := s.db.Exec(ctx, q, name, placement.CustomResourceClassMinID)
		if err == nil {
			return true, nil
		}
		if pgCode(err) != pgerrcode.UniqueViolation {
			return false, err
		}
		if pgConstraint(err) == "uniq_resource_classes0name" {
			return false, nil
		}
	}
	return false, placement.E(placement.Conflict,
		"Max retries of DB transaction exceeded attempting to create resource class: %s, please try again.", name)
}

// RenameResourceClass renames a custom class (microversions 1.2–1.6).
func (s *Store) RenameResourceClass(ctx context.Context, from, to string) (ResourceClass, error) {
	var out ResourceClass
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		rc, err := resourceClassByName(ctx, tx, from)
		if err != nil {
			return err
		}
		if rc.Standard() {
			return placement.E(placement.Invalid, "Cannot update standard resource class %s", from)
		}
		_, err = tx.Exec(ctx, `UPDATE resource_classes SET name = $1, updated_at = `+now+` WHERE id = $2`, to, rc.ID)
		if pgCode(err) == pgerrcode.UniqueViolation {
			return placement.E(placement.Conflict, "Resource class already exists: %s", to)
		}
		if err != nil {
			return err
		}
		out = ResourceClass{ID: rc.ID, Name: to}
		return nil
	})
	return out, err
}

// DeleteResourceClass removes a custom class that no inventory uses.
func (s *Store) DeleteResourceClass(ctx context.Context, name string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		rc, err := resourceClassByName(ctx, tx, name)
		if err != nil {
			return err
		}
		if rc.Standard() {
			return placement.E(placement.Invalid, "Error in delete resource class: Cannot delete standard resource class %s.", name)
		}
		var inUse bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inventories WHERE resource_class_id = $1)`, rc.ID).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return placement.E(placement.Conflict, "Error in delete resource class: Cannot delete resource class %s. Class is in use in inventory.", name)
		}
		_, err = tx.Exec(ctx, `DELETE FROM resource_classes WHERE id = $1`, rc.ID)
		return err
	})
}
