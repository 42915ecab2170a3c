package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// seedTraitsSQL inserts the standard traits that are missing. The NOT EXISTS
// filter keeps traits_id_seq from being consumed by names that are already
// there (ON CONFLICT alone draws nextval for every row); ON CONFLICT covers
// a concurrent seeder inserting the same name in between.
const seedTraitsSQL = `
INSERT INTO traits (name, created_at)
SELECT t.name, $2::timestamp
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)
WHERE NOT EXISTS (SELECT 1 FROM traits WHERE traits.name = t.name)
ORDER BY t.ord
ON CONFLICT ON CONSTRAINT uniq_traits0name DO NOTHING`

// seedResourceClassesSQL inserts the standard resource classes that are
// missing, with id = position in the list (spec 04 §1.2). A class is skipped
// when its name exists (whatever its id) or its id is taken (whatever the
// name); the untargeted ON CONFLICT tolerates a concurrent seeder on either
// unique constraint.
const seedResourceClassesSQL = `
INSERT INTO resource_classes (id, name, created_at)
SELECT (c.ord - 1)::integer, c.name, $2::timestamp
FROM unnest($1::text[]) WITH ORDINALITY AS c(name, ord)
WHERE NOT EXISTS (
    SELECT 1 FROM resource_classes rc
    WHERE rc.name = c.name OR rc.id = (c.ord - 1)::integer)
ORDER BY c.ord
ON CONFLICT DO NOTHING`

// seedMissingSQL tells whether seedTraitsSQL and seedResourceClassesSQL
// would insert anything: their filters, without the INSERT.
const seedMissingSQL = `
SELECT EXISTS (SELECT 1 FROM unnest($1::text[]) AS t(name)
               WHERE NOT EXISTS (SELECT 1 FROM traits WHERE traits.name = t.name)),
       EXISTS (SELECT 1 FROM unnest($2::text[]) WITH ORDINALITY AS c(name, ord)
               WHERE NOT EXISTS (
                   SELECT 1 FROM resource_classes rc
                   WHERE rc.name = c.name OR rc.id = (c.ord - 1)::integer))`

// SeedStandard inserts missing standard resource classes (explicit ids =
// list position) and standard traits (ids from the sequence), with
// created_at = now (UTC, naive timestamp), tolerating concurrent seeders
// (INSERT ... ON CONFLICT DO NOTHING). Existing rows are never modified. It
// asks first, and writes only what is missing: a process that starts while
// its database is read-only (a standby before its promotion, or
// default_transaction_read_only) still serves once everything is there.
func SeedStandard(ctx context.Context, db *pgxpool.Pool) error {
	var traits, classes bool
	err := db.QueryRow(ctx, seedMissingSQL, placement.StandardTraits, placement.StandardResourceClasses).Scan(&traits, &classes)
	if err != nil {
		return fmt.Errorf("look up standard resource classes and traits: %w", err)
	}
	now := time.Now().UTC()
	if traits {
		if _, err := db.Exec(ctx, seedTraitsSQL, placement.StandardTraits, now); err != nil {
			return fmt.Errorf("seed standard traits: %w", err)
		}
	}
	if !classes {
		return nil
	}
	if _, err := db.Exec(ctx, seedResourceClassesSQL, placement.StandardResourceClasses, now); err != nil {
		return fmt.Errorf("seed standard resource classes: %w", err)
	}
	return nil
}
