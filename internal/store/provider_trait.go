package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// ProviderTraitSet is a provider's trait names with its generation and the
// latest timestamp among the listed trait rows (zero when there are none).
type ProviderTraitSet struct {
	Generation   int
	Traits       []string
	LastModified time.Time
}

const providerTraitsSQL = `SELECT t.name, t.created_at, t.updated_at
	FROM resource_provider_traits rpt JOIN traits t ON t.id = rpt.trait_id
	WHERE rpt.resource_provider_id = $1 ORDER BY t.name`

func providerTraits(ctx context.Context, q querier, p Provider) (ProviderTraitSet, error) {
	out := ProviderTraitSet{Generation: p.Generation, Traits: []string{}}
	rows, err := q.Query(ctx, providerTraitsSQL, p.ID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var created, updated *time.Time
		if err := rows.Scan(&name, &created, &updated); err != nil {
			return out, err
		}
		out.Traits = append(out.Traits, name)
		out.LastModified = latest(out.LastModified, stamp(created, updated))
	}
	return out, rows.Err()
}

// ProviderTraits returns the provider's own traits (spec 04 §2.7).
func (s *Store) ProviderTraits(ctx context.Context, uuid string) (ProviderTraitSet, error) {
	var out ProviderTraitSet
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		out, err = providerTraits(ctx, tx, p)
		return err
	})
	return out, err
}

// SetProviderTraits replaces the provider's traits when generation matches
// (spec 04 §2.8). The generation is bumped only when the set changes.
func (s *Store) SetProviderTraits(ctx context.Context, uuid string, generation int, names []string) (ProviderTraitSet, error) {
	var out ProviderTraitSet
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		if p.Generation != generation {
			return placement.E(placement.Conflict, "%s", MsgGenerationChanged).WithCode(placement.CodeConcurrentUpdate)
		}
		ids, err := idsByName(ctx, tx, `SELECT name, id FROM traits WHERE name = ANY($1)`, names)
		if err != nil {
			return err
		}
		var missing []string
		want := make([]int, 0, len(names))
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			id, ok := ids[n]
			if !ok {
				missing = append(missing, n)
				continue
			}
			want = append(want, id)
		}
		if len(missing) > 0 {
			return placement.E(placement.Invalid, "No such trait %s", strings.Join(missing, ", "))
		}
		// One statement removes what is not wanted and adds what is missing;
		// the CAS bump happens first so that a concurrent writer with the
		// same generation blocks on the row and then fails.
		var changed bool
		err = tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM resource_provider_traits WHERE resource_provider_id = $1 AND NOT trait_id = ANY($2))
			OR EXISTS (SELECT 1 FROM unnest($2::integer[]) w(id)
				WHERE NOT EXISTS (SELECT 1 FROM resource_provider_traits WHERE resource_provider_id = $1 AND trait_id = w.id))`,
			p.ID, want).Scan(&changed)
		if err != nil {
			return err
		}
		if changed {
			if p.Generation, err = bumpGeneration(ctx, tx, p.ID, p.Generation, MsgConcurrentUpdate); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM resource_provider_traits WHERE resource_provider_id = $1 AND NOT trait_id = ANY($2)`, p.ID, want); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO resource_provider_traits (trait_id, resource_provider_id, created_at)
				SELECT w.id, $1, `+now+` FROM unnest($2::integer[]) w(id)
				ON CONFLICT DO NOTHING`, p.ID, want)
			if err != nil {
				return err
			}
		}
		out, err = providerTraits(ctx, tx, p)
		return err
	})
	return out, err
}

// DeleteProviderTraits removes every trait of the provider, bumping the
// generation if it had any (spec 04 §2.9).
func (s *Store) DeleteProviderTraits(ctx context.Context, uuid string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resource_provider_traits WHERE resource_provider_id = $1)`, p.ID).Scan(&has); err != nil {
			return err
		}
		if !has {
			return nil
		}
		if _, err := bumpGeneration(ctx, tx, p.ID, p.Generation, MsgConcurrentUpdate); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM resource_provider_traits WHERE resource_provider_id = $1`, p.ID)
		return err
	})
}
