package store

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipeTx is the pgx.Tx of withTx. It saves the round trips of BEGIN and,
// where the caller allows it, of COMMIT: BEGIN is sent in the same round
// trip as the transaction's first statements, and a batch sent after
// commitWithNextBatch carries the COMMIT. Nothing is sent for a
// transaction that runs no statement.
//
// Errors leave the connection inside the transaction; withTx's Rollback
// ends it, or the pool closes the connection on release.
type pipeTx struct {
	conn  *pgxpool.Conn
	state txState
	// commitNext makes the next SendBatch end with COMMIT; readsResults
	// says that batch's results are read (a callback queued with a
	// statement, or a result taken from the BatchResults), so that when it
	// is lost the caller may have missed some.
	commitNext, readsResults bool
	// withXid makes the BEGIN batch also read the transaction's id and the
	// server's start ("" until read), with which withTx can learn, over
	// another connection, the outcome of a COMMIT whose connection broke.
	withXid      bool
	xid, started string
}

type txState int

const (
	txIdle      txState = iota // BEGIN not sent yet
	txOpen                     // BEGIN sent
	txCommitted                // COMMIT sent (with a batch or by Commit)
	txClosed                   // rolled back
)

var _ pgx.Tx = (*pipeTx)(nil)

var errTxDone = errors.New("store: transaction already ended")

// commitWithNextBatch makes the next batch sent on tx also commit the
// transaction, when tx is a pipeTx (a no-op otherwise). Only for a batch
// whose every failure is an SQL error (which makes the server skip the
// COMMIT): a condition checked in Go after the batch would come too late.
// The caller must not use tx after that batch, and must do nothing after
// it but return its error (possibly reworded): when only the answer to
// that batch is lost and withTx learns that the COMMIT ran, the write
// stands as if the batch had succeeded, unless its results were read.
func commitWithNextBatch(tx pgx.Tx) {
	if p, ok := tx.(*pipeTx); ok {
		p.commitNext = true
	}
}

// SendBatch sends b, preceded by BEGIN on the first use and followed by
// COMMIT after commitWithNextBatch.
func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.state >= txCommitted {
		return &failedBatch{err: errTxDone}
	}
	begin := t.state == txIdle
	if begin {
		first := []*pgx.QueuedQuery{{SQL: "BEGIN"}}
		if t.withXid {
			first = append(first, &pgx.QueuedQuery{SQL: "SELECT pg_current_xact_id()::text, pg_postmaster_start_time()::text"})
		}
		b.QueuedQueries = append(first, b.QueuedQueries...)
		t.state = txOpen
	}
	commit := t.commitNext
	if commit {
		t.readsResults = slices.ContainsFunc(b.QueuedQueries, func(q *pgx.QueuedQuery) bool { return q.Fn != nil })
		b.Queue("COMMIT")
		t.commitNext = false
		t.state = txCommitted
	}
	br := t.conn.SendBatch(ctx, b)
	if begin {
		_, err := br.Exec()
		if err == nil && t.withXid {
			err = br.QueryRow().Scan(&t.xid, &t.started)
		}
		if err != nil {
			br.Close()
			t.state = txOpen // for Rollback
			return &failedBatch{err: err}
		}
	}
	if commit {
		return &committingBatch{BatchResults: br, tx: t}
	}
	return br
}

// committingBatch reopens its transaction for Rollback when the batch that
// was to commit it failed with an SQL error: the server then skipped the
// COMMIT, so nothing was committed. Any other failure (the connection
// broke, the backend was terminated, the request was cancelled) may have
// come after the COMMIT ran: the transaction stays "committed", and withTx
// runs it again only once it learns that the COMMIT did not run. A write
// that ran twice would fail its own generation checks and report a
// conflict for a change it had made.
type committingBatch struct {
	pgx.BatchResults
	tx *pipeTx
}

func (c *committingBatch) Exec() (pgconn.CommandTag, error) {
	c.tx.readsResults = true
	return c.BatchResults.Exec()
}

func (c *committingBatch) Query() (pgx.Rows, error) {
	c.tx.readsResults = true
	return c.BatchResults.Query()
}

func (c *committingBatch) QueryRow() pgx.Row {
	c.tx.readsResults = true
	return c.BatchResults.QueryRow()
}

func (c *committingBatch) Close() error {
	err := c.BatchResults.Close()
	if sqlError(err) {
		c.tx.state = txOpen
	}
	return err
}

// sqlError reports whether err is an error the server raised for a
// statement (severity ERROR), after which it skips the rest of the batch
// and the session goes on; FATAL and PANIC end the session.
func sqlError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return severity(pe) == "ERROR"
}

// Exec runs one statement (with BEGIN in the same round trip if needed).
func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.state != txIdle {
		if t.state != txOpen {
			return pgconn.CommandTag{}, errTxDone
		}
		return t.conn.Exec(ctx, sql, args...)
	}
	var b pgx.Batch
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, &b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs one query (with BEGIN in the same round trip if needed).
func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.state != txIdle {
		if t.state != txOpen {
			return nil, errTxDone
		}
		return t.conn.Query(ctx, sql, args...)
	}
	var b pgx.Batch
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, &b)
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow is Query for at most one row.
func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

// Commit sends COMMIT unless it was sent already or nothing was begun.
func (t *pipeTx) Commit(ctx context.Context) error {
	switch t.state {
	case txIdle, txCommitted:
		t.state = txCommitted
		return nil
	case txClosed:
		return pgx.ErrTxClosed
	}
	t.state = txCommitted
	_, err := t.conn.Exec(ctx, "COMMIT")
	return err
}

// Rollback ends an open transaction; after Commit it does nothing.
func (t *pipeTx) Rollback(ctx context.Context) error {
	if t.state != txOpen {
		if t.state == txIdle {
			t.state = txClosed
		}
		return pgx.ErrTxClosed
	}
	t.state = txClosed
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// Begin would start a savepoint; the store never nests transactions.
func (t *pipeTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("store: nested transactions are not supported")
}

func (t *pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if t.state == txIdle {
		if _, err := t.Exec(ctx, "SELECT 1"); err != nil {
			return 0, err
		}
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Conn().Prepare(ctx, name, sql)
}

func (t *pipeTx) Conn() *pgx.Conn { return t.conn.Conn() }

// batchRows closes the batch that carried the query with the rows.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

// Next also ends the batch once the rows are exhausted, so that a caller
// that reads to the end without closing leaves the connection usable.
func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.br.Close()
	return false
}

func (r *batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

// oneRow is pgx's Row over a Query result.
type oneRow struct {
	rows pgx.Rows
	err  error
}

func (r *oneRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// failedBatch reports err for every result.
type failedBatch struct{ err error }

func (f *failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f *failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f *failedBatch) QueryRow() pgx.Row                { return &oneRow{err: f.err} }
func (f *failedBatch) Close() error                     { return f.err }
func (f *failedBatch) Tx() pgx.Tx                       { return nil }
