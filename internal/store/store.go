package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/libpq"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// Store is the only code that talks SQL. Exported methods open their own
// transaction; unexported helpers take the pgx.Tx they run in.
type Store struct {
	pool *pgxpool.Pool
	// ConflictRetries bounds the retry loop around allocation writes
	// ([placement] allocation_conflict_retry_count), and the re-runs of
	// any write transaction that PostgreSQL aborted for a deadlock or a
	// serialization failure.
	ConflictRetries int
	// OnRetry, when set, hears of every restart of a write transaction:
	// "generation" for a provider generation conflict of an allocation
	// write, or the SQLSTATE (40001, 40P01) for any write. It feeds the
	// retry metric.
	OnRetry func(reason string)
	// CandidateCache is [placement] candidate_cache: serve allocation
	// candidates from the in-process cache kept consistent through the
	// placement_changes log (changes.go) rather than loading per request.
	CandidateCache bool
	// Logger hears what the store cannot report through an error (nil:
	// slog.Default()).
	Logger *slog.Logger

	candidates *candidateCache
	db         pooled
	// writers admits write transactions: at most cap(writers) run at once
	// in a process (see withTx).
	writers chan struct{}
}

// SetPoolTimeout bounds the wait for a free database connection
// ([placement_database] pool_timeout); a request that waits longer gets a
// 503. Zero waits as long as the request lasts.
func (s *Store) SetPoolTimeout(d time.Duration) { s.db.timeout = d }

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, db: pooled{pool: pool}, ConflictRetries: 10, CandidateCache: true, candidates: newCandidateCache(),
		writers: make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))}
}

func (s *Store) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Pool returns the underlying pool (health checks, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// PoolOptions are the [placement_database] pool settings.
type PoolOptions struct {
	MaxConns        int32
	MaxConnLifetime time.Duration
}

// Open connects a pool to dsn and checks that the database answers. Its
// sessions run at READ COMMITTED whatever the database's default.
func Open(ctx context.Context, dsn string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	shuffle, err := libpq.Apply(&cfg.ConnConfig.Config)
	if err != nil {
		return nil, err
	}
	settings := &sessionSettings{}
	cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
		if shuffle != nil {
			shuffle(&cc.Config)
		}
		settings.unprepare(cc)
		return nil
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	// The concurrency design (row locks, generation checks, a lookup
	// again after a lock) is READ COMMITTED's; a database or role default
	// of serializable made writes under contention fail. A SET rather than
	// a startup parameter, which PgBouncer refuses; an explicit setting in
	// the URL stays.
	_, settings.keepIsolation = cfg.ConnConfig.RuntimeParams["default_transaction_isolation"]
	cfg.ConnConfig.Tracer = settings
	cfg.AfterConnect = settings.connected
	cfg.PrepareConn = func(ctx context.Context, conn *pgx.Conn) (bool, error) {
		if !settings.usable(conn) {
			return false, nil
		}
		return idleConnAlive(ctx, conn)
	}
	cfg.BeforeClose = settings.forget
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// withTx runs fn in a transaction and commits it. The rollback after a
// failure ignores ctx cancellation so a timed-out request never leaves a
// transaction open.
//
// The transaction is a pipeTx: BEGIN travels with the first statements.
//
// Three failures leave nothing behind, so the transaction runs again:
//   - its connection broke (its backend terminated, the database
//     restarted) before the COMMIT ran: before COMMIT was sent, or after,
//     as another connection learns from pg_xact_status with the
//     transaction's id (read with BEGIN): at most connRetries times, on a
//     new connection;
//   - PostgreSQL aborted it to break a deadlock or a serialization
//     failure (SQLSTATE 40P01, 40001): at most ConflictRetries times,
//     each reported to OnRetry. Another writer that takes the same row
//     locks in another order (the Python service bumps a provider's
//     generation after writing its inventory; this service before) makes
//     such deadlocks possible on any write;
//   - a statement clashed with a transaction pooler's shared sessions
//     (sessions.go): it did not run, and the transaction aborted; at most
//     connRetries times.
//
// fn must therefore be safe to run again from the start. When the COMMIT
// did run and only its acknowledgement was lost, the write succeeded if fn
// had returned, or committed with a batch whose results it did not read
// (commitWithNextBatch); otherwise what fn read may be incomplete and the
// outcome stays unknown to the client (a 503).
//
// Write transactions wait for one of a few slots (twice the cores, at
// least four) before they take a connection. More writers at once do not
// write faster: they contend for the same CPUs and row locks. And a claim
// waiting for a busy provider's row lock holds its connection, so without
// a bound the writers could hold the whole pool and reads would queue
// behind them.
func (s *Store) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := s.admitWriter(ctx); err != nil {
		return err
	}
	defer func() { <-s.writers }()
	lost, aborted, clashes := 0, 0, 0
	for {
		t, err := s.tryTx(ctx, fn, true)
		if err != nil && t.committing && connLost(err) && ctx.Err() == nil {
			// The connection broke after COMMIT was sent: ask another
			// connection what became of the transaction.
			switch s.xactStatus(ctx, t.xid, t.started) {
			case "committed":
				if t.complete {
					return nil // only the acknowledgement of COMMIT was lost
				}
				// fn may not have read all it meant to return: the
				// client learns that the outcome is unknown.
			case "aborted":
				t.committing = false // nothing was committed: run it again, below
			}
		}
		if preparedClash(err) && ctx.Err() == nil {
			// The statement did not run, and its transaction aborted:
			// new sessions prepare nothing (sessions.go).
			if clashes++; clashes > connRetries {
				return err
			}
			continue
		}
		if err == nil || t.committing || ctx.Err() != nil {
			return err
		}
		switch code := pgCode(err); {
		case code == pgerrcode.DeadlockDetected || code == pgerrcode.SerializationFailure:
			if aborted++; aborted >= max(s.ConflictRetries, 1) {
				return err
			}
			s.retried(code)
		case connLost(err):
			if lost++; lost > connRetries {
				return err
			}
			afterLoss(ctx, lost-1)
		default:
			return err
		}
	}
}

// admitWriter takes a write slot, waiting at most as long as for a free
// connection (pool_timeout): then the request gets the same 503.
func (s *Store) admitWriter(ctx context.Context) error {
	select {
	case s.writers <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if s.db.timeout > 0 {
		t := time.NewTimer(s.db.timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.writers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return fmt.Errorf("%w (%s) waiting for one of the %d write slots", ErrPoolTimeout, s.db.timeout, cap(s.writers))
	}
}

// readProviderTx is readTx for reads about one provider: fn gets the
// provider, looked up by uuid in the same transaction.
func (s *Store) readProviderTx(ctx context.Context, uuid string, fn func(tx pgx.Tx, p Provider) error) error {
	return s.readTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		return fn(tx, p)
	})
}

// readTx is withTx for transactions that only read: they run again after a
// lost connection even when COMMIT was already on its way, since nothing
// they did can have been committed, and after a clash with a transaction
// pooler (rerunnable).
func (s *Store) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		_, err := s.tryTx(ctx, fn, false)
		if err == nil || !rerun(ctx, attempt, err, rerunnable) {
			return err
		}
	}
}

// connRetries bounds the re-runs of a transaction that lost its connection.
const connRetries = 2

// attempt is how one run of a transaction (tryTx) ended.
type attempt struct {
	// committing: COMMIT had been sent when it failed, so the outcome is
	// unknown.
	committing bool
	// complete: fn had done all it meant to when the COMMIT was sent (it
	// had returned, or the COMMIT went with a batch whose results it did
	// not read), so if the COMMIT ran, fn's work and what it returns stand.
	complete bool
	// xid and started are the transaction's id and its server's start, if
	// read (pipeTx.withXid).
	xid, started string
}

// tryTx runs fn in one transaction, reading its id first if withXid.
func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error, withXid bool) (attempt, error) {
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return attempt{}, err
	}
	defer conn.Release() // closed instead of reused if still in a transaction
	tx := &pipeTx{conn: conn, withXid: withXid}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		committing := tx.state >= txCommitted
		return attempt{committing: committing, complete: committing && !tx.readsResults, xid: tx.xid, started: tx.started}, err
	}
	err = tx.Commit(ctx)
	return attempt{committing: true, complete: true, xid: tx.xid, started: tx.started}, err
}

// xactStatus returns what became of the transaction xid, run by a server
// started at started (pipeTx.withXid): pg_xact_status's "committed" or
// "aborted", or "" when that cannot be known: xid was not read, the
// database does not answer, the transaction is still in progress after
// about a second, or the server is not the one that ran it (a restart or a
// failover since: it may have lost the transaction and handed its id to
// another). A backend that
// ended without committing, terminated or crashed, leaves its transaction
// aborted; but a terminated backend sends its FATAL before it aborts, so
// for a moment the transaction is still in progress.
func (s *Store) xactStatus(ctx context.Context, xid, started string) string {
	if xid == "" {
		return ""
	}
	for wait := 5 * time.Millisecond; wait < time.Second; wait *= 2 {
		var status *string
		err := s.db.QueryRow(ctx, `SELECT CASE WHEN pg_postmaster_start_time()::text = $2
			THEN pg_xact_status($1::text::xid8) END`, xid, started).Scan(&status)
		if err != nil || status == nil {
			return ""
		}
		if *status != "in progress" {
			return *status
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ""
		}
	}
	return ""
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgConstraint returns the constraint named by err, or "".
func pgConstraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// genericPlans makes the rest of a transaction run each prepared statement
// with its generic plan, made once per connection. For array parameters
// PostgreSQL otherwise tends to plan every execution afresh (a custom
// plan), which for key lookups costs more than running them. Only for
// statements whose generic plan is an index lookup whatever the values.
const genericPlans = `SET LOCAL plan_cache_mode = force_generic_plan`

// genericIndexPlans is genericPlans with sequential scans as a last
// resort, for the allocation write, whose every statement looks rows up by
// key: a generic plan guesses ten elements an array, and against a table
// of a thousand rows or two the planner preferred filtering every row to
// ten index probes (the provider lookup by uuid: 0.15 ms at 1,100
// providers).
//
// JIT compilation is off as well: a generic plan's cost is a guess, and
// past jit_above_cost (100,000 by default) PostgreSQL compiles the plan
// on every execution. A load by change log at 50,000 providers was
// estimated at 233,335 rows and spent 392 ms compiling for a 0.1 ms
// query.
const genericIndexPlans = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`

// genericNestedLoops is genericPlans for the loads of selected trees, which
// join a handful of providers to the tables of every provider: with a hash
// or merge join the planner would read those tables whole (a refresh after
// one write read the whole inventory, trait and aggregate tables, 1 ms of
// the database's time at 1,200 providers, against 0.25 ms). Without them
// the plans left probe the indexes, whatever the table sizes.
// JIT is off, as for genericIndexPlans.
const genericNestedLoops = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true),
	set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`

// now is the timestamp expression for created_at/updated_at: naive UTC, as
// upstream stores them.
const now = `(now() AT TIME ZONE 'UTC')`

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stamp returns updated_at if set, else created_at.
func stamp(created, updated *time.Time) time.Time {
	if updated != nil {
		return *updated
	}
	if created != nil {
		return *created
	}
	return time.Time{}
}

var errNoRows = pgx.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

// notFound is a convenience for NotFound errors.
func notFound(format string, args ...any) error {
	return placement.E(placement.NotFound, format, args...)
}

func itoa(i int) string { return strconv.Itoa(i) }
