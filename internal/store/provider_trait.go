package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
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
	err := s.readProviderTx(ctx, uuid, func(tx pgx.Tx, p Provider) error {
		var err error
		out, err = providerTraits(ctx, tx, p)
		return err
	})
	return out, err
}

// SetProviderTraits replaces the provider's traits when generation matches
// (spec 04 §2.8). The generation is bumped only when the set changes.
//
// Two round trips, each a transaction of its own: the reads, then (when
// the set changes) the bump with the writes and the COMMIT. The bump
// fails unless the generation is still the one read, so the writes apply
// to the state the first round trip saw.
func (s *Store) SetProviderTraits(ctx context.Context, uuid string, generation int, names []string) (ProviderTraitSet, error) {
	var (
		out     = ProviderTraitSet{Traits: []string{}}
		p       Provider
		found   bool
		ids     = make(map[string]int, len(names))
		current []int
	)
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue(genericPlans) // the trait lookup was planned on every call
		b.Queue(`SELECT id, generation FROM resource_providers WHERE uuid = $1`, uuid).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&p.ID, &p.Generation)
			if isNoRows(err) {
				return nil
			}
			found = err == nil
			return err
		})
		// The new set, in the order providerTraits lists it.
		b.Queue(`SELECT name, id, created_at, updated_at FROM traits WHERE name = ANY($1) ORDER BY name`, names).Query(func(rows pgx.Rows) error {
			var name string
			var id int
			var created, updated *time.Time
			_, err := pgx.ForEachRow(rows, []any{&name, &id, &created, &updated}, func() error {
				ids[name] = id
				out.Traits = append(out.Traits, name)
				out.LastModified = latest(out.LastModified, stamp(created, updated))
				return nil
			})
			return err
		})
		b.Queue(`SELECT rpt.trait_id FROM resource_provider_traits rpt
			JOIN resource_providers rp ON rp.id = rpt.resource_provider_id WHERE rp.uuid = $1`, uuid).Query(func(rows pgx.Rows) error {
			var err error
			current, err = pgx.CollectRows(rows, pgx.RowTo[int])
			return err
		})
		commitWithNextBatch(tx)
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return out, err
	}
	if !found {
		return out, providerNotFound(uuid)
	}
	if p.Generation != generation {
		return out, errConcurrentUpdate(MsgGenerationChanged)
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
		return out, placement.E(placement.Invalid, "No such trait %s", strings.Join(missing, ", "))
	}
	out.Generation = p.Generation
	slices.Sort(want)
	slices.Sort(current)
	if slices.Equal(want, current) {
		return out, nil
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue(genericPlans)
		// The bump comes first so that a concurrent writer with the same
		// generation blocks on the row and then fails.
		b.Queue(bumpOrFailSQL, p.ID, p.Generation)
		b.Queue(`DELETE FROM resource_provider_traits WHERE resource_provider_id = $1 AND NOT trait_id = ANY($2)`, p.ID, want)
		b.Queue(`INSERT INTO resource_provider_traits (trait_id, resource_provider_id, created_at)
			SELECT w.id, $1, `+now+` FROM unnest($2::integer[]) w(id)
			ON CONFLICT DO NOTHING`, p.ID, want)
		commitWithNextBatch(tx)
		// A stale generation, or a trait or the provider deleted since the
		// read (the insert's foreign keys), is a concurrent update.
		err := tx.SendBatch(ctx, &b).Close()
		if bumpMissed(err) || pgCode(err) == pgerrcode.ForeignKeyViolation {
			return errConcurrentUpdate(MsgConcurrentUpdate)
		}
		return err
	})
	if err != nil {
		return out, err
	}
	out.Generation++
	return out, nil
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
