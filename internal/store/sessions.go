package store

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
)

// Session settings.
//
// Every session the pool opens is set to READ COMMITTED (connected), the
// level the write path's locks, generation checks and retries are built
// for, whatever the database's default_transaction_isolation.
//
// A session also takes default_transaction_read_only, statement_timeout and
// lock_timeout from the database's or role's settings when it starts
// (ALTER DATABASE … SET, the usual switch for a maintenance window, applies
// to new sessions only). Once such a setting is reset, pooled sessions would
// go on refusing writes or cancelling statements (a 503, see
// refusal) until recycled, an hour by default. So the pool does not
// hand out again a session on which a statement failed for one of these
// reasons (SQLSTATE 25006, 57014, 55P03: the next one gets the database's
// current settings), nor one that started read-only once it is older than
// readOnlyRecheck (PostgreSQL 14 and later report that setting to the
// client): writes succeed again within seconds of the reset, without a
// restart. Sessions of a hot standby do not report the setting as on: they
// become writable by themselves when the standby is promoted.
//
// Behind a transaction pooler (PgBouncer's pool_mode = transaction) the
// pool's connections are not sessions: each transaction, each statement
// outside one, may run on another server session, shared with other
// clients. Named prepared statements, pgx's default, then clash: a name
// this session prepared is missing there, or another client's statement of
// the same name (the hash of the same SQL) is there already (SQLSTATE
// 26000, 42P05). Either way the statement did not run and its transaction
// is aborted. The Python service prepares nothing, so it works behind
// such a pooler unchanged; so does this one: the first clash switches the
// pool to statements that are not prepared by name (pgx's "exec" mode,
// what default_query_exec_mode=exec in connection_parameters sets from
// the start), logs a warning once, and retires the sessions opened before;
// the statement, or the transaction it was in, runs again (withTx,
// readTx, pooled: preparedClash, rerunnable).

// readOnlyRecheck is how long a session that started read-only is used.
var readOnlyRecheck = 5 * time.Second

// sessionSettings is the pool's query tracer, and its hooks around
// connecting, acquiring and closing.
type sessionSettings struct {
	failed  sync.Map // *pgx.Conn → struct{}: a statement failed for its settings
	started sync.Map // *pgx.Conn → time.Time: when its session started
	// keepIsolation: the connection URL sets default_transaction_isolation.
	keepIsolation bool
	// unprepared: a clash showed a transaction pooler; new sessions
	// prepare nothing (unprepare).
	unprepared atomic.Bool
	preparing  sync.Map // *pgx.Conn → struct{}: it prepares statements by name
}

// unprepare is the pool's BeforeConnect, after the host shuffle: once a
// transaction pooler was seen, new sessions prepare nothing.
func (s *sessionSettings) unprepare(cc *pgx.ConnConfig) {
	if s.unprepared.Load() && cc.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
}

// connected is the pool's AfterConnect: it sets the session's isolation
// level to READ COMMITTED (see Open) and notes when the session started.
func (s *sessionSettings) connected(ctx context.Context, conn *pgx.Conn) error {
	if !s.keepIsolation {
		if _, err := conn.Exec(ctx, `SET default_transaction_isolation = 'read committed'`); err != nil {
			return err
		}
	}
	s.started.Store(conn, time.Now())
	if conn.Config().DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		s.preparing.Store(conn, struct{}{})
	}
	return nil
}

// usable reports, when conn is acquired, whether its session may serve:
// not one on which a statement failed for its settings, nor one that started
// read-only longer than readOnlyRecheck ago, nor one that prepares
// statements once a transaction pooler was seen. (Checked here rather than
// on release: pgxpool runs an AfterRelease hook on a goroutine of its own.)
func (s *sessionSettings) usable(conn *pgx.Conn) bool {
	if _, failed := s.failed.LoadAndDelete(conn); failed {
		return false
	}
	if _, preparing := s.preparing.Load(conn); preparing && s.unprepared.Load() {
		return false
	}
	if conn.PgConn().ParameterStatus("default_transaction_read_only") != "on" {
		return true
	}
	at, ok := s.started.Load(conn)
	return ok && time.Since(at.(time.Time)) < readOnlyRecheck
}

// forget is the pool's BeforeClose.
func (s *sessionSettings) forget(conn *pgx.Conn) {
	s.failed.Delete(conn)
	s.started.Delete(conn)
	s.preparing.Delete(conn)
}

func (s *sessionSettings) note(conn *pgx.Conn, err error) {
	if err == nil {
		return
	}
	if _, bySetting := refusal(pgCode(err)); bySetting {
		s.failed.Store(conn, struct{}{})
	}
	if preparedClash(err) && s.unprepared.CompareAndSwap(false, true) {
		slog.Warn("database: prepared statements clash, as behind a transaction pooler (PgBouncer's pool_mode = transaction); new sessions prepare nothing (as default_query_exec_mode=exec in [placement_database] connection_parameters does), which costs some speed",
			"error", err)
	}
}

// preparedClash reports whether err is a named prepared statement missing
// from the server session, or there already (sessionSettings): a
// transaction pooler between this process and PostgreSQL.
func preparedClash(err error) bool {
	switch pgCode(err) {
	case pgerrcode.DuplicatePreparedStatement, pgerrcode.InvalidSQLStatementName:
		return true
	}
	return false
}

// rerunnable reports whether a read that failed with err may run again on
// another connection: its connection broke, or its statement clashed with
// a transaction pooler's shared sessions (it did not run).
func rerunnable(err error) bool { return connLost(err) || preparedClash(err) }

func (s *sessionSettings) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (s *sessionSettings) TraceQueryEnd(_ context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	s.note(conn, data.Err)
}

func (s *sessionSettings) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (s *sessionSettings) TraceBatchQuery(_ context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	s.note(conn, data.Err)
}

func (s *sessionSettings) TraceBatchEnd(_ context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	s.note(conn, data.Err)
}
