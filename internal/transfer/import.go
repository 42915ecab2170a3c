package transfer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/libpq"
	"github.com/openstack-placement-go/placement/internal/migrate"
)

// Import copies the Placement database at mysqlURL (created by the Python
// service, alembic 422ece571366 or a082b8bb98d0) into the PostgreSQL
// database at pgDSN (a pgx URL), which it first creates or upgrades with
// migrate.Sync. The source is read in one read-only, repeatable-read
// transaction. The target's upstream tables are replaced in one
// transaction, ids included, and the sequences continue after the highest
// id. The copy is then verified: row counts and checksums of every table,
// printed to o.Out. A target holding data (anything beyond the standard
// resource classes and traits this service seeds) is refused with
// ErrNotEmpty unless o.Force. A failed verification returns ErrMismatch.
func Import(ctx context.Context, mysqlURL, pgDSN string, o Options) error {
	w := o.out()
	src, err := openMySQL(ctx, mysqlURL, &o)
	if err != nil {
		return err
	}
	defer src.Close()
	stx, err := src.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("MySQL: %w", err)
	}
	defer stx.Rollback() //nolint:errcheck // read-only
	rev, err := mysqlRevision(ctx, stx)
	if err != nil {
		return err
	}
	counts, err := countMySQL(ctx, stx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "source: MySQL database at alembic revision %s\n", rev)
	if err := checkNUL(ctx, stx); err != nil {
		return err
	}

	if o.DryRun {
		return dryRunImport(ctx, stx, pgDSN, counts, &o)
	}
	conn, err := libpq.Connect(ctx, pgDSN)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Refuse before db sync touches anything; a database without the schema
	// holds nothing of ours.
	if exists, err := pgHasSchema(ctx, conn); err != nil {
		return err
	} else if exists {
		reason, err := pgHolds(ctx, conn)
		if err != nil {
			return err
		}
		if reason != "" && !o.Force {
			return fmt.Errorf("%w: the PostgreSQL database holds %s; use --force to replace its contents", ErrNotEmpty, reason)
		}
		if reason != "" {
			fmt.Fprintf(w, "target holds %s: replacing it (--force)\n", reason)
		}
	}
	fmt.Fprintln(w, "target: bringing the PostgreSQL schema to head (db sync)")
	if err := migrate.Sync(ctx, pgDSN); err != nil {
		return err
	}

	sums, err := copyToPG(ctx, stx, conn, counts, &o)
	if err != nil {
		return err
	}
	results, err := verifyPG(ctx, conn, counts, sums)
	return report(w, "import", results, err)
}

// pgHolds describes the data a PostgreSQL Placement database holds beyond
// what an empty one (plus seeded standard classes and traits) has, or ""
// for none.
func pgHolds(ctx context.Context, conn *pgx.Conn) (string, error) {
	var held []string
	for _, t := range tables {
		q := "SELECT count(*) FROM " + t.name
		if t.name == "resource_classes" || t.name == "traits" {
			q += ` WHERE name LIKE 'CUSTOM\_%'`
		}
		var n int64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return "", fmt.Errorf("inspecting %s in PostgreSQL: %w", t.name, err)
		}
		if n > 0 {
			what := t.name
			if t.name == "resource_classes" || t.name == "traits" {
				what = "custom " + t.name
			}
			held = append(held, fmt.Sprintf("%d %s", n, what))
		}
	}
	return strings.Join(held, ", "), nil
}

// copyToPG replaces the target's tables with the source's in one
// transaction and returns the source checksums computed while copying.
func copyToPG(ctx context.Context, stx *sql.Tx, conn *pgx.Conn, counts map[string]int64, o *Options) (map[string]string, error) {
	w := o.out()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	// TRUNCATE's change-capture trigger logs a NULL row, which makes every
	// cache of this service reload.
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
		return nil, fmt.Errorf("emptying the target: %w", err)
	}
	sums := map[string]string{}
	for _, t := range tables {
		start := time.Now()
		rows, err := queryMySQL(ctx, stx, t)
		if err != nil {
			return nil, err
		}
		cs := &copySource{src: rows, d: newDigest(), p: progress{o: o, table: t.name, total: counts[t.name]}}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.names(), cs)
		if cerr := rows.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("copying %s: %w", t.name, err)
		}
		sums[t.name] = cs.d.sum()
		fmt.Fprintf(w, "copied %-28s %8d rows in %s\n", t.name, n, time.Since(start).Round(time.Millisecond))
		rows.noteZeroDates(w, "became")
		if t.serial {
			q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE(max(id), 0) + 1, false) FROM %s", t.name, t.name)
			if _, err := tx.Exec(ctx, q); err != nil {
				return nil, fmt.Errorf("resetting the sequence of %s: %w", t.name, err)
			}
		}
	}
	// The per-provider rows the insert triggers logged for the copy are
	// redundant after TRUNCATE's NULL row; drop them and keep one NULL row.
	if _, err := tx.Exec(ctx, `DELETE FROM placement_changes WHERE txid = pg_current_xact_id()`); err != nil {
		return nil, fmt.Errorf("trimming placement_changes: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO placement_changes (resource_provider_id, created_at) VALUES (NULL, now() AT TIME ZONE 'UTC')`); err != nil {
		return nil, fmt.Errorf("logging the import in placement_changes: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing the import: %w", err)
	}
	return sums, nil
}

// copySource feeds MySQL rows to COPY, checksumming them on the way.
type copySource struct {
	src *mysqlRows
	row []any
	d   *digest
	p   progress
}

func (c *copySource) Next() bool {
	row, ok := c.src.next()
	if !ok {
		return false
	}
	c.row = row
	c.d.add(row)
	c.p.step()
	return true
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.src.err }

// verifyPG checksums the target's tables and pairs them with the source's.
func verifyPG(ctx context.Context, conn *pgx.Conn, counts map[string]int64, sums map[string]string) ([]result, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	return verifyTables(counts, sums, func(t table) (rowSource, error) { return queryPG(ctx, tx, t) })
}

// dryRunImport reads and checksums every source table and reports the
// target's state, changing nothing.
func dryRunImport(ctx context.Context, stx *sql.Tx, pgDSN string, counts map[string]int64, o *Options) error {
	w := o.out()
	if err := printPlan(w, func(t table) (rowSource, error) { return queryMySQL(ctx, stx, t) }); err != nil {
		return err
	}
	conn, err := libpq.Connect(ctx, pgDSN)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exists, err := pgHasSchema(ctx, conn)
	if err != nil {
		return err
	}
	if !exists {
		fmt.Fprintln(w, "target: no Placement schema yet; db import would create it (db sync) and copy")
		fmt.Fprintln(w, "dry run: nothing changed")
		return nil
	}
	reason, err := pgHolds(ctx, conn)
	if err != nil {
		return err
	}
	switch {
	case reason == "":
		fmt.Fprintln(w, "target: Placement schema without data; db import would copy into it")
	case o.Force:
		fmt.Fprintf(w, "target holds %s: db import --force would replace it\n", reason)
	default:
		fmt.Fprintln(w, "dry run: nothing changed")
		return fmt.Errorf("%w: the PostgreSQL database holds %s; db import would need --force", ErrNotEmpty, reason)
	}
	fmt.Fprintln(w, "dry run: nothing changed")
	return nil
}

// pgHasSchema reports whether the PostgreSQL database has the Placement
// tables (from this service's or the Python service's db sync).
func pgHasSchema(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('consumers') IS NOT NULL").Scan(&exists); err != nil {
		return false, fmt.Errorf("inspecting PostgreSQL: %w", err)
	}
	return exists, nil
}
