package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/textbox"
)

// Options control Import and Export.
type Options struct {
	// Force copies into a target that already holds data, replacing it.
	Force bool
	// DryRun reads and checksums the source and inspects the target,
	// changing nothing.
	DryRun bool
	// Out receives progress lines and the verification table.
	Out io.Writer
	// ProgressEvery is the row interval of progress lines within a table
	// (default 10,000).
	ProgressEvery int64
}

// ErrNotEmpty is returned when the target holds data and Force is not set.
var ErrNotEmpty = errors.New("target is not empty")

// ErrMismatch is returned when the copy does not verify.
var ErrMismatch = errors.New("verification failed: the copy differs from the source")

// supportedRevisions are the upstream alembic revisions whose tables match
// our schema version 1 column for column.
var supportedRevisions = map[string]bool{
	migrate.RevisionConsumerTypes: true,
	migrate.RevisionDropIndexes:   true,
}

// result is one table's verification.
type result struct {
	table          string
	source, target int64
	sourceSum      string
	targetSum      string
}

func (o *Options) out() io.Writer {
	if o.Out == nil {
		return io.Discard
	}
	return o.Out
}

func (o *Options) every() int64 {
	if o.ProgressEvery <= 0 {
		return 10000
	}
	return o.ProgressEvery
}

// openMySQL opens and pings the MySQL database of rawURL, printing the
// URL conversion's warnings.
func openMySQL(ctx context.Context, rawURL string, o *Options) (*sql.DB, error) {
	dsn, warnings, err := MySQLDSN(rawURL)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintf(o.out(), "warning: %s\n", w)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to MySQL: %w", err)
	}
	return db, nil
}

// mysqlRevision returns the alembic revision of a MySQL Placement database
// and refuses one the Python service's db sync has not brought to a
// supported revision.
func mysqlRevision(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (string, error) {
	var rev string
	err := q.QueryRowContext(ctx, "SELECT version_num FROM alembic_version").Scan(&rev)
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me) && me.Number == 1146: // ER_NO_SUCH_TABLE
		return "", fmt.Errorf("the MySQL database has no alembic_version table: run the Python service's `placement-manage db sync` on it first")
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("the MySQL database's alembic_version is empty: run the Python service's `placement-manage db sync` on it first")
	case err != nil:
		return "", fmt.Errorf("reading alembic_version from MySQL: %w", err)
	}
	if !supportedRevisions[rev] {
		return "", fmt.Errorf("the MySQL database is at alembic revision %s; only %s (Placement 8.0.0) and %s (later) are supported: run the Python service's `placement-manage db sync` first",
			rev, migrate.RevisionConsumerTypes, migrate.RevisionDropIndexes)
	}
	return rev, nil
}

// countMySQL counts every table's rows.
func countMySQL(ctx context.Context, tx *sql.Tx) (map[string]int64, error) {
	return countRows("MySQL", func(query string, n *int64) error { return tx.QueryRowContext(ctx, query).Scan(n) })
}

// countPG counts every table's rows.
func countPG(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
	return countRows("PostgreSQL", func(query string, n *int64) error { return tx.QueryRow(ctx, query).Scan(n) })
}

// countRows counts every table's rows in db ("MySQL" or "PostgreSQL"),
// where scan runs a one-row query and scans its value into n.
func countRows(db string, scan func(query string, n *int64) error) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := scan("SELECT count(*) FROM "+t.name, &n); err != nil {
			return nil, fmt.Errorf("counting %s in %s: %w", t.name, db, err)
		}
		counts[t.name] = n
	}
	return counts, nil
}

// mysqlRows streams a table from MySQL as normalised rows.
type mysqlRows struct {
	rows *sql.Rows
	t    table
	vals []sql.NullString
	ptrs []any
	err  error
	// zeroDates counts the zero dates read (fromMySQL makes them NULL).
	zeroDates int64
}

func queryMySQL(ctx context.Context, tx *sql.Tx, t table) (*mysqlRows, error) {
	// No arguments: go-sql-driver sends the text protocol.
	rows, err := tx.QueryContext(ctx, t.selectSQL())
	if err != nil {
		return nil, readError("MySQL", t, err)
	}
	r := &mysqlRows{rows: rows, t: t, vals: make([]sql.NullString, len(t.cols))}
	for i := range r.vals {
		r.ptrs = append(r.ptrs, &r.vals[i])
	}
	return r, nil
}

func (r *mysqlRows) next() ([]any, bool) {
	if r.err != nil || !r.rows.Next() {
		return nil, false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = err
		return nil, false
	}
	row := make([]any, len(r.vals))
	for i, v := range r.vals {
		var s *string
		if v.Valid {
			s = &v.String
		}
		val, err := fromMySQL(r.t.cols[i].kind, s)
		if err != nil {
			r.err = fmt.Errorf("%s.%s: %w", r.t.name, r.t.cols[i].name, err)
			return nil, false
		}
		if val == nil && s != nil {
			r.zeroDates++
		}
		row[i] = val
	}
	return row, true
}

// noteZeroDates tells the operator how many of the table's timestamps were
// MySQL zero dates, which the copy holds as NULL.
func (r *mysqlRows) noteZeroDates(w io.Writer, verb string) {
	if r.zeroDates > 0 {
		fmt.Fprintf(w, "  %s: %d zero dates (0000-00-00, which PostgreSQL cannot hold) %s NULL\n", r.t.name, r.zeroDates, verb)
	}
}

func (r *mysqlRows) close() error {
	closeErr := r.rows.Close()
	return readError("MySQL", r.t, r.err, closeErr, r.rows.Err())
}

// pgRows streams a table from PostgreSQL as normalised rows.
type pgRows struct {
	rows pgx.Rows
	t    table
	err  error
}

func queryPG(ctx context.Context, tx pgx.Tx, t table) (*pgRows, error) {
	rows, err := tx.Query(ctx, t.selectSQL())
	if err != nil {
		return nil, readError("PostgreSQL", t, err)
	}
	return &pgRows{rows: rows, t: t}, nil
}

func (r *pgRows) next() ([]any, bool) {
	if r.err != nil || !r.rows.Next() {
		return nil, false
	}
	vals, err := r.rows.Values()
	if err != nil {
		r.err = err
		return nil, false
	}
	for i, v := range vals {
		if vals[i], err = fromPG(r.t.cols[i].kind, v); err != nil {
			r.err = fmt.Errorf("%s.%s: %w", r.t.name, r.t.cols[i].name, err)
			return nil, false
		}
	}
	return vals, true
}

func (r *pgRows) close() error {
	r.rows.Close()
	return readError("PostgreSQL", r.t, r.err, r.rows.Err())
}

// readError is the first error of errs, if any, as a failure to read table
// t from db ("MySQL" or "PostgreSQL").
func readError(db string, t table, errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("reading %s from %s: %w", t.name, db, err)
		}
	}
	return nil
}

// rowSource is a table being read from either engine.
type rowSource interface {
	next() ([]any, bool)
	close() error
}

// verifyTables checksums every table as query reads it from the target and
// pairs the result with the source's row counts and checksums.
func verifyTables(counts map[string]int64, sums map[string]string, query func(table) (rowSource, error)) ([]result, error) {
	var results []result
	for _, t := range tables {
		rows, err := query(t)
		if err != nil {
			return nil, err
		}
		d := newDigest()
		if err := drain(rows, d); err != nil {
			return nil, err
		}
		results = append(results, result{table: t.name, source: counts[t.name], target: d.rows, sourceSum: sums[t.name], targetSum: d.sum()})
	}
	return results, nil
}

// printPlan prints, for a dry run, the rows and checksum of every table as
// query reads it from the source.
func printPlan(w io.Writer, query func(table) (rowSource, error)) error {
	for _, t := range tables {
		rows, err := query(t)
		if err != nil {
			return err
		}
		d := newDigest()
		if err := drain(rows, d); err != nil {
			return err
		}
		fmt.Fprintf(w, "would copy %-28s %8d rows (sha256 %s)\n", t.name, d.rows, d.sum()[:16])
		if m, ok := rows.(*mysqlRows); ok {
			m.noteZeroDates(w, "would become")
		}
	}
	return nil
}

// drain reads a whole table into d.
func drain(src rowSource, d *digest) error {
	for {
		row, ok := src.next()
		if !ok {
			return src.close()
		}
		d.add(row)
	}
}

// progress prints a line every o.every() rows of a table with total rows.
type progress struct {
	o     *Options
	table string
	total int64
	done  int64
}

func (p *progress) step() {
	p.done++
	if p.done%p.o.every() == 0 && p.done < p.total {
		fmt.Fprintf(p.o.out(), "  %s: %d/%d rows\n", p.table, p.done, p.total)
	}
}

// report prints the verification of a copy (unless err) and returns
// ErrMismatch unless every table matches.
func report(w io.Writer, what string, results []result, err error) error {
	if err != nil {
		return err
	}
	if !printResults(w, "source", "target", results) {
		return ErrMismatch
	}
	fmt.Fprintln(w, what+" complete and verified")
	return nil
}

// printResults prints the verification table and reports whether every
// table matches.
func printResults(w io.Writer, from, to string, results []result) bool {
	ok := true
	header := []string{"table", "rows " + from, "rows " + to, "checksum match"}
	rows := [][]string{}
	for _, r := range results {
		match := r.source == r.target && r.sourceSum == r.targetSum
		ok = ok && match
		m := "yes"
		if !match {
			m = "NO"
		}
		rows = append(rows, []string{r.table, fmt.Sprint(r.source), fmt.Sprint(r.target), m})
	}
	textbox.Write(w, header, rows, textbox.FirstLeft)
	return ok
}
