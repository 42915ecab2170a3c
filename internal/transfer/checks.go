package transfer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// uniqueText are the unique text columns whose values PostgreSQL keeps
// apart while MySQL's usual collations may take two of them for one:
// utf8mb4_general_ci and utf8mb4_0900_ai_ci ignore case and accents, and
// the PAD SPACE ones trailing spaces too. Provider names are free text
// that either service accepts in any case; project and user ids are
// free-form without Keystone. UUIDs are stored lower-case, and the names of
// classes, traits and consumer types are upper-case ASCII, so those cannot
// collide.
var uniqueText = []struct{ table, column string }{
	{"resource_providers", "name"},
	{"projects", "external_id"},
	{"users", "external_id"},
}

// checkCollations fails, before anything is written, when values of a
// unique text column that are distinct in PostgreSQL would be equal under
// the target column's MySQL collation; the copy would fail on the first
// of them, and the operator should rename them all at once. It asks MySQL
// itself, in a temporary table with the column's collation.
func checkCollations(ctx context.Context, ptx pgx.Tx, mc *sql.Conn) error {
	if _, err := mc.ExecContext(ctx, "SET SESSION group_concat_max_len = 1048576"); err != nil {
		return fmt.Errorf("MySQL: %w", err)
	}
	var problems []string
	for _, u := range uniqueText {
		var charset, collation sql.NullString
		err := mc.QueryRowContext(ctx, `SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?`, u.table, u.column).Scan(&charset, &collation)
		if err != nil {
			return fmt.Errorf("reading the collation of %s.%s in MySQL: %w", u.table, u.column, err)
		}
		if !collation.Valid || strings.HasSuffix(collation.String, "_bin") {
			continue
		}
		groups, err := collidingValues(ctx, ptx, mc, u.table, u.column, charset.String, collation.String)
		if err != nil {
			return err
		}
		for _, g := range groups {
			problems = append(problems, fmt.Sprintf("%s.%s: %s", u.table, u.column, g))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("values distinct in PostgreSQL would be one in MySQL, whose collation ignores case, accents or trailing spaces; "+
			"rename all but one of each group (a provider with PUT /resource_providers/{uuid}), then export again:\n  %s",
			strings.Join(problems, "\n  "))
	}
	return nil
}

// collidingValues copies table.column from PostgreSQL into a temporary
// MySQL table with the given collation and returns each group of values it
// takes for one, quoted and comma-separated.
func collidingValues(ctx context.Context, ptx pgx.Tx, mc *sql.Conn, table, column, charset, collation string) ([]string, error) {
	const tmp = "placement_export_collation"
	for _, q := range []string{
		"DROP TEMPORARY TABLE IF EXISTS " + tmp,
		fmt.Sprintf("CREATE TEMPORARY TABLE %s (v VARCHAR(255) CHARACTER SET %s COLLATE %s NOT NULL)", tmp, charset, collation),
	} {
		if _, err := mc.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("MySQL %q: %w", q, err)
		}
	}
	defer mc.ExecContext(context.WithoutCancel(ctx), "DROP TEMPORARY TABLE IF EXISTS "+tmp) //nolint:errcheck // temporary anyway
	rows, err := ptx.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL", column, table, column))
	if err != nil {
		return nil, fmt.Errorf("reading %s.%s in PostgreSQL: %w", table, column, err)
	}
	defer rows.Close()
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		if _, err := mc.ExecContext(ctx, insertSQL(tmp, []string{"v"}, len(args)), args...); err != nil {
			return fmt.Errorf("MySQL: %w", err)
		}
		args = args[:0]
		return nil
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if args = append(args, v); len(args) == exportBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s.%s in PostgreSQL: %w", table, column, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	found, err := mc.QueryContext(ctx, "SELECT GROUP_CONCAT(QUOTE(v) ORDER BY CAST(v AS BINARY) SEPARATOR ', ') FROM "+tmp+
		" GROUP BY v HAVING COUNT(*) > 1 ORDER BY MIN(v)")
	if err != nil {
		return nil, fmt.Errorf("MySQL: %w", err)
	}
	defer found.Close()
	var groups []string
	for found.Next() {
		var g string
		if err := found.Scan(&g); err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, found.Err()
}

// checkNUL fails, before anything is written, when a text value in MySQL
// holds a NUL character, which PostgreSQL cannot store: the Python service
// on MySQL accepts one in a provider name or a project or user id. The
// copy would fail on the first such row; this lists them all.
func checkNUL(ctx context.Context, stx *sql.Tx) error {
	var problems []string
	for _, t := range tables {
		for _, c := range t.cols {
			if c.kind != kText {
				continue
			}
			// A NUL is the byte 00 at a character boundary; in hex, an
			// aligned "00".
			q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE HEX(%s) REGEXP '^(..)*00' ORDER BY %s",
				strings.Join(t.pk, ", "), c.name, t.name, c.name, strings.Join(t.pk, ", "))
			rows, err := stx.QueryContext(ctx, q)
			if err != nil {
				return fmt.Errorf("MySQL: checking %s.%s: %w", t.name, c.name, err)
			}
			for rows.Next() {
				vals := make([]sql.RawBytes, len(t.pk)+1)
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				var key []string
				for i, name := range t.pk {
					key = append(key, name+" "+string(vals[i]))
				}
				problems = append(problems, fmt.Sprintf("%s.%s of %s: %q", t.name, c.name, strings.Join(key, ", "), vals[len(t.pk)]))
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("PostgreSQL cannot store the NUL (0x00) character of these values; "+
			"rename the providers through the Python service (PUT /resource_providers/{uuid}) or correct the rows in MySQL, then import again:\n  %s",
			strings.Join(problems, "\n  "))
	}
	return nil
}
