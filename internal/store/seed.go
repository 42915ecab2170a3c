package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// missingTraitsSQL lists the standard traits ($1, in order) that are
// missing.
const missingTraitsSQL = `
SELECT t.name, t.ord FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)
WHERE NOT EXISTS (SELECT 1 FROM traits WHERE traits.name = t.name)`

// missingClassesSQL lists the standard resource classes ($1, in order,
// each with id = position in the list, spec 04 §1.2) that are missing. A
// class counts as present when its name exists (whatever its id) or its id
// is taken (whatever the name).
const missingClassesSQL = `
SELECT c.name, c.ord FROM unnest($1::text[]) WITH ORDINALITY AS c(name, ord)
WHERE NOT EXISTS (
    SELECT 1 FROM resource_classes rc
    WHERE rc.name = c.name OR rc.id = (c.ord - 1)::integer)`

// seedTraitsSQL inserts the missing standard traits. Filtering first keeps
// traits_id_seq from being consumed by names that are already there (ON
// CONFLICT alone draws nextval for every row); ON CONFLICT covers a
// concurrent seeder inserting the same name in between.
const seedTraitsSQL = `
INSERT INTO traits (name, created_at)
SELECT m.name, $2::timestamp FROM (` + missingTraitsSQL + `) m
ORDER BY m.ord
ON CONFLICT ON CONSTRAINT uniq_traits0name DO NOTHING`

// seedResourceClassesSQL inserts the missing standard resource classes;
// the untargeted ON CONFLICT tolerates a concurrent seeder on either unique
// constraint.
const seedResourceClassesSQL = `
INSERT INTO resource_classes (id, name, created_at)
SELECT (m.ord - 1)::integer, m.name, $2::timestamp FROM (` + missingClassesSQL + `) m
ORDER BY m.ord
ON CONFLICT DO NOTHING`

// SeedStandard inserts missing standard resource classes (explicit ids =
// list position) and standard traits (ids from the sequence), with
// created_at = now (UTC, naive timestamp), tolerating concurrent seeders
// (INSERT ... ON CONFLICT DO NOTHING). Existing rows are never modified. It
// asks first, and writes only what is missing: a process that starts while
// its database is read-only (a standby before its promotion, or
// default_transaction_read_only) still serves once everything is there.
//
// Its statements go through pooled, which runs them again after a clash
// with a transaction pooler (sessions.go).
func SeedStandard(ctx context.Context, pool *pgxpool.Pool) error {
	db := pooled{pool: pool}
	now := time.Now().UTC()
	for _, seed := range []struct {
		what, missing, insert string
		names                 []string
	}{
		{"standard traits", missingTraitsSQL, seedTraitsSQL, placement.StandardTraits},
		{"standard resource classes", missingClassesSQL, seedResourceClassesSQL, placement.StandardResourceClasses},
	} {
		var missing bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (`+seed.missing+`)`, seed.names).Scan(&missing); err != nil {
			return fmt.Errorf("look up %s: %w", seed.what, err)
		}
		if !missing {
			continue
		}
		if _, err := db.Exec(ctx, seed.insert, seed.names, now); err != nil {
			return fmt.Errorf("seed %s: %w", seed.what, err)
		}
	}
	return nil
}
