package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// TraitFilter narrows Traits. Nil fields do not filter.
type TraitFilter struct {
	NameIn     []string
	NamePrefix *string // SQL LIKE prefix, unescaped as upstream does
	Associated *bool
}

// Traits returns the names of matching traits ordered by name, and the latest
// timestamp among them (zero when none).
func (s *Store) Traits(ctx context.Context, f TraitFilter) ([]string, time.Time, error) {
	var where []string
	var args []any
	if f.NameIn != nil {
		args = append(args, f.NameIn)
		where = append(where, "t.name = ANY($1)")
	}
	if f.NamePrefix != nil {
		args = append(args, *f.NamePrefix+"%")
		where = append(where, "t.name LIKE $"+itoa(len(args)))
	}
	if f.Associated != nil {
		not := ""
		if !*f.Associated {
			not = "NOT "
		}
		where = append(where, not+"EXISTS (SELECT 1 FROM resource_provider_traits rpt WHERE rpt.trait_id = t.id)")
	}
	q := `SELECT t.name, t.created_at, t.updated_at FROM traits t`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.name"
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	names := []string{}
	var last time.Time
	for rows.Next() {
		var name string
		var created, updated *time.Time
		if err := rows.Scan(&name, &created, &updated); err != nil {
			return nil, time.Time{}, err
		}
		names = append(names, name)
		last = latest(last, stamp(created, updated))
	}
	return names, last, rows.Err()
}

// TraitCreatedAt returns the creation time of the trait, or NotFound
// "No such trait(s): <name>.".
func (s *Store) TraitCreatedAt(ctx context.Context, name string) (time.Time, error) {
	var created *time.Time
	err := s.db.QueryRow(ctx, `SELECT created_at FROM traits WHERE name = $1`, name).Scan(&created)
	if isNoRows(err) {
		return time.Time{}, notFound("No such trait(s): %s.", name)
	}
	if created == nil {
		return time.Time{}, err
	}
	return *created, err
}

// EnsureTrait creates the trait if absent. It reports whether this call
// created it and the trait's creation time (zero if a concurrent request
// created it).
func (s *Store) EnsureTrait(ctx context.Context, name string) (bool, time.Time, error) {
	var created time.Time
	err := s.db.QueryRow(ctx,
		`INSERT INTO traits (created_at, name) VALUES (`+now+`, $1) ON CONFLICT (name) DO NOTHING RETURNING created_at`,
		name).Scan(&created)
	if err == nil {
		return true, created, nil
	}
	if !isNoRows(err) {
		return false, time.Time{}, err
	}
	at, err := s.TraitCreatedAt(ctx, name)
	if placement.KindOf(err) == placement.NotFound {
		return false, time.Time{}, nil
	}
	return false, at, err
}

// DeleteTrait removes a custom trait that no provider has.
func (s *Store) DeleteTrait(ctx context.Context, name string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		var id int
		err := tx.QueryRow(ctx, `SELECT id FROM traits WHERE name = $1 FOR UPDATE`, name).Scan(&id)
		if isNoRows(err) {
			return notFound("No such trait(s): %s.", name)
		}
		if err != nil {
			return err
		}
		if !strings.HasPrefix(name, "CUSTOM_") {
			return placement.E(placement.Invalid, "Cannot delete standard trait %s.", name)
		}
		var inUse bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resource_provider_traits WHERE trait_id = $1)`, id).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return placement.E(placement.Conflict, "The trait %s is in use by a resource provider.", name)
		}
		_, err = tx.Exec(ctx, `DELETE FROM traits WHERE id = $1`, id)
		return err
	})
}
