package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pooled runs statements on connections of a pool, waiting at most
// timeout for a free connection ([placement_database] pool_timeout; 0: as
// long as the request lasts). Every statement of the store goes through it.
type pooled struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

// MsgPoolTimeout is the 503 of a request that found no usable database
// connection within pool_timeout: every connection was busy, or the
// database did not answer the check of an idle connection or the start of
// a new one.
const MsgPoolTimeout = "No database connection became ready in time: all were busy, or the database did not answer. Please try again later."

// ErrPoolTimeout is in the error of every statement that waited
// pool_timeout in vain; Classify makes it the MsgPoolTimeout 503.
var ErrPoolTimeout = errors.New("pool_timeout passed")

// Acquire returns a connection of the pool; the caller releases it.
//
// When the server refuses a new connection for want of slots
// (max_connections, or a role's CONNECTION LIMIT, reached: several
// processes whose pools together outgrow the server) while this pool
// holds connections of its own, Acquire waits for one of those to come
// free instead of failing, within pool_timeout.
func (p pooled) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx := ctx
	if p.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		conn, err := p.pool.Acquire(actx)
		if err == nil {
			return conn, nil
		}
		if actx.Err() == nil && serverFull(err) && p.pool.Stat().TotalConns() > 0 {
			select {
			case <-time.After(wait):
				continue
			case <-actx.Done():
			}
		}
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			st := p.pool.Stat()
			return nil, fmt.Errorf("%w (%s) with %d of %d connections in use, %d being opened: %w",
				ErrPoolTimeout, p.timeout, st.AcquiredConns(), st.MaxConns(), st.ConstructingConns(), err)
		}
		return nil, err
	}
}

// serverFull reports whether err is the server refusing a connection
// because all its slots, or all its slots for this role, are taken.
func serverFull(err error) bool {
	return pgCode(err) == pgerrcode.TooManyConnections
}

// Query runs sql on a connection that goes back to the pool when the rows
// are closed. A SELECT whose connection broke before it answered runs
// again on another connection (a read changed nothing), whether the break
// shows when the query is sent or, as for a prepared statement pgx sends
// without waiting, when its first row is read (retryingRows); other
// statements are not re-sent then. Any statement that clashed with a
// transaction pooler's shared sessions runs again: it did not run
// (sessions.go).
func (p pooled) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	again := preparedClash
	if isSelect(sql) {
		again = rerunnable
	}
	for attempt := 0; ; attempt++ {
		rows, err := p.query(ctx, sql, args...)
		if err == nil {
			return &retryingRows{Rows: rows, p: p, ctx: ctx, sql: sql, args: args, again: again, attempt: attempt}, nil
		}
		if !rerun(ctx, attempt, err, again) {
			return nil, err
		}
	}
}

// rerun reports whether work that failed with err (a statement, a
// read-only transaction, a candidate snapshot), already run again attempt
// times, runs again: again(err) says it may, retries are left and the
// request still wants the answer. It then waits first (afterLoss).
func rerun(ctx context.Context, attempt int, err error, again func(error) bool) bool {
	if !again(err) || attempt == connRetries || ctx.Err() != nil {
		return false
	}
	afterLoss(ctx, attempt)
	return true
}

// retryingRows runs its statement again, on another connection, when it
// fails as again allows before the first row arrives: the caller has seen
// nothing yet. A failure after that is reported as it is.
type retryingRows struct {
	pgx.Rows
	p       pooled
	ctx     context.Context
	sql     string
	args    []any
	again   func(error) bool
	attempt int
	seen    bool // a row was returned
}

func (r *retryingRows) Next() bool {
	for {
		if r.Rows.Next() {
			r.seen = true
			return true
		}
		if err := r.Rows.Err(); err == nil || r.seen || !rerun(r.ctx, r.attempt, err, r.again) {
			return false
		}
		r.attempt++
		rows, err := r.p.query(r.ctx, r.sql, r.args...)
		if err != nil {
			r.Rows = &failedRows{Rows: r.Rows, err: err}
			continue // reported, or run again if it too failed so
		}
		r.Rows = rows
	}
}

// failedRows are closed rows that report err.
type failedRows struct {
	pgx.Rows
	err error
}

func (f *failedRows) Next() bool { return false }
func (f *failedRows) Err() error { return f.err }

func (p pooled) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		conn.Release()
		return nil, err
	}
	return &releasingRows{Rows: rows, conn: conn}, nil
}

// isSelect reports whether sql is a plain SELECT (which our statements
// never use for side effects).
func isSelect(sql string) bool {
	sql = strings.TrimSpace(sql)
	return len(sql) >= 6 && strings.EqualFold(sql[:6], "SELECT")
}

// QueryRow is Query for at most one row, with pgx's QueryRow semantics.
func (p pooled) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

// Exec runs sql on a connection of the pool, again when it clashed with a
// transaction pooler's shared sessions (it did not run).
func (p pooled) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	for attempt := 0; ; attempt++ {
		tag, err := p.exec(ctx, sql, args...)
		if err == nil || !rerun(ctx, attempt, err, preparedClash) {
			return tag, err
		}
	}
}

func (p pooled) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	return conn.Exec(ctx, sql, args...)
}

// BeginTx starts a transaction on a connection that goes back to the pool
// when the transaction ends.
func (p pooled) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		conn.Release()
		return nil, err
	}
	return &releasingTx{Tx: tx, conn: conn}, nil
}

type releasingRows struct {
	pgx.Rows
	conn *pgxpool.Conn
}

func (r *releasingRows) Close() {
	r.Rows.Close()
	if r.conn != nil {
		r.conn.Release()
		r.conn = nil
	}
}

func (r *releasingRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

type releasingTx struct {
	pgx.Tx
	conn *pgxpool.Conn
}

func (t *releasingTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.release()
	return err
}

func (t *releasingTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.release()
	return err
}

func (t *releasingTx) release() {
	if t.conn != nil {
		t.conn.Release()
		t.conn = nil
	}
}
