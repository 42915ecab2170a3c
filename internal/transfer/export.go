package transfer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/libpq"
)

// exportBatch is the number of rows per multi-row INSERT into MySQL.
const exportBatch = 500

// Export copies this service's PostgreSQL database at pgDSN into the MySQL
// database at mysqlURL, which the Python service's `placement-manage db
// sync` must have created (alembic 422ece571366 or a082b8bb98d0; its
// alembic_version is left as it is). The source is read in one read-only,
// repeatable-read transaction and written in one MySQL transaction with
// foreign-key checks off for the session, ids included (InnoDB continues
// its AUTO_INCREMENT after them). Then both sides are checksummed and the
// table printed to o.Out. A MySQL database whose tables hold rows is
// refused with ErrNotEmpty unless o.Force, which deletes them first. A
// failed verification returns ErrMismatch; so does a timestamp fraction or
// a float that MySQL's DATETIME and FLOAT columns cannot hold.
func Export(ctx context.Context, pgDSN, mysqlURL string, o Options) error {
	w := o.out()
	conn, err := libpq.Connect(ctx, pgDSN)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ptx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	if exists, err := pgHasSchema(ctx, ptx); err != nil {
		return err
	} else if !exists {
		return fmt.Errorf("the PostgreSQL database has no Placement schema")
	}
	counts, err := countPG(ctx, ptx)
	if err != nil {
		return err
	}

	db, err := openMySQL(ctx, mysqlURL, &o)
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection: the session settings below must apply to the writes.
	mc, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("MySQL: %w", err)
	}
	defer mc.Close()
	rev, err := mysqlRevision(ctx, mc)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "target: MySQL database at alembic revision %s (left as it is)\n", rev)
	var held []string
	for _, t := range tables {
		var n int64
		if err := mc.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return fmt.Errorf("counting %s in MySQL: %w", t.name, err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, t.name))
		}
	}
	if len(held) > 0 {
		if !o.Force {
			return fmt.Errorf("%w: the MySQL database holds %s; use --force to replace its contents", ErrNotEmpty, strings.Join(held, ", "))
		}
		fmt.Fprintf(w, "target holds %s: replacing it (--force)\n", strings.Join(held, ", "))
	}
	if err := checkCollations(ctx, ptx, mc); err != nil {
		return err
	}
	if o.DryRun {
		if err := printPlan(w, func(t table) (rowSource, error) { return queryPG(ctx, ptx, t) }); err != nil {
			return err
		}
		fmt.Fprintln(w, "dry run: nothing changed")
		return nil
	}

	sums, err := copyToMySQL(ctx, ptx, mc, counts, len(held) > 0, &o)
	if err != nil {
		return err
	}
	results, err := verifyMySQL(ctx, mc, counts, sums)
	return report(w, "export", results, err)
}

// copyToMySQL writes every table in one MySQL transaction and returns the
// source checksums computed while copying.
func copyToMySQL(ctx context.Context, ptx pgx.Tx, mc *sql.Conn, counts map[string]int64, replace bool, o *Options) (map[string]string, error) {
	w := o.out()
	// foreign_key_checks: the tables arrive in an order that satisfies the
	// foreign keys except resource_providers' references to itself.
	// NO_AUTO_VALUE_ON_ZERO: the standard resource class VCPU has id 0,
	// which MySQL would otherwise replace with the next AUTO_INCREMENT.
	for _, q := range []string{
		"SET SESSION foreign_key_checks = 0",
		"SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')",
	} {
		if _, err := mc.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("MySQL %q: %w", q, err)
		}
	}
	defer mc.ExecContext(context.WithoutCancel(ctx), "SET SESSION foreign_key_checks = 1") //nolint:errcheck // the connection is closed next
	tx, err := mc.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("MySQL: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if replace {
		for i := len(tables) - 1; i >= 0; i-- {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+tables[i].name); err != nil {
				return nil, fmt.Errorf("emptying %s in MySQL: %w", tables[i].name, err)
			}
		}
	}
	sums := map[string]string{}
	for _, t := range tables {
		start := time.Now()
		rows, err := queryPG(ctx, ptx, t)
		if err != nil {
			return nil, err
		}
		d := newDigest()
		p := progress{o: o, table: t.name, total: counts[t.name]}
		var args []any
		n := 0
		flush := func() error {
			if n == 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, insertSQL(t.name, t.names(), n), args...); err != nil {
				return fmt.Errorf("writing %s to MySQL: %w", t.name, err)
			}
			args, n = args[:0], 0
			return nil
		}
		for {
			row, ok := rows.next()
			if !ok {
				break
			}
			d.add(row)
			p.step()
			for _, v := range row {
				args = append(args, toMySQL(v))
			}
			if n++; n == exportBatch {
				if err := flush(); err != nil {
					rows.close() //nolint:errcheck // the write error wins
					return nil, err
				}
			}
		}
		if err := rows.close(); err != nil {
			return nil, err
		}
		if err := flush(); err != nil {
			return nil, err
		}
		sums[t.name] = d.sum()
		fmt.Fprintf(w, "copied %-28s %8d rows in %s\n", t.name, d.rows, time.Since(start).Round(time.Millisecond))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing the export: %w", err)
	}
	return sums, nil
}

// insertSQL is a MySQL INSERT of n rows of cols into table, with
// placeholders for their values.
func insertSQL(table string, cols []string, n int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

// toMySQL is the argument a normalised value is written to MySQL as.
// Timestamps go as text in UTC whole seconds, so that MySQL (which rounds
// fractions) and MariaDB (which truncates them) store the same DATETIME.
func toMySQL(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Truncate(time.Second).Format(mysqlTimeLayout)
	}
	return v
}

// verifyMySQL checksums the MySQL tables and pairs them with the source's.
func verifyMySQL(ctx context.Context, mc *sql.Conn, counts map[string]int64, sums map[string]string) ([]result, error) {
	tx, err := mc.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("MySQL: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return verifyTables(counts, sums, func(t table) (rowSource, error) { return queryMySQL(ctx, tx, t) })
}
