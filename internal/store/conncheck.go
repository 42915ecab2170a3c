package store

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Dead pooled connections.
//
// When a backend is terminated (pg_terminate_backend, a restart, a
// failover) while its connection sits idle in the pool, PostgreSQL sends a
// FATAL message and closes the socket; the client learns of it only when it
// next reads. pgxpool pings only connections idle for more than a second,
// so under load such a connection is handed to a request whose first query
// then fails. Two defences:
//
//   - idleConnAlive, run on every acquire, peeks at the socket without
//     blocking (one system call, no round trip): an idle connection has
//     nothing to read, so pending bytes or end of file mean the backend is
//     gone, and the pool replaces the connection;
//   - withTx runs a transaction again on a fresh connection when the
//     connection was lost before COMMIT was sent (connLost).

// idleConnAlive reports whether conn's socket looks usable: false when the
// server has sent something (a FATAL message) or closed it. A connection
// whose socket cannot be inspected (TLS) counts as alive.
func idleConnAlive(ctx context.Context, conn *pgx.Conn) (bool, error) {
	if conn.PgConn().IsClosed() {
		return false, nil
	}
	// pgconn starts a background reader when a write is slow (15 ms); once
	// stopped, its goroutine stays blocked in a read of the socket until
	// bytes arrive, which on an idle connection may be never, and it would
	// swallow a FATAL message before the peek below could see it.
	// SyncConn returns at once when no background read is pending, and
	// otherwise drains it with a ping.
	if err := conn.PgConn().SyncConn(ctx); err != nil {
		return false, nil
	}
	sc, ok := conn.PgConn().Conn().(syscall.Conn)
	if !ok {
		return true, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true, nil
	}
	alive := true
	var buf [1]byte
	// Control, not Read: Read would take the descriptor's read lock, which
	// a blocked reader may hold; a non-blocking peek needs no lock and
	// consumes nothing.
	err = raw.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK):
			// Nothing pending: the normal state of an idle connection.
		case err != nil || n >= 0:
			// Bytes nobody asked for, end of file, or a socket error.
			alive = false
		}
	})
	if err != nil {
		return false, nil
	}
	return alive, nil
}

// connLost reports whether err means the connection to the server broke
// (rather than a statement failing on a healthy connection).
func connLost(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return serverGoing(pe)
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || (errors.As(err, &ne) && !ne.Timeout()) ||
		pgconn.SafeToRetry(err)
}

// Sessions that their settings make refuse the work.
//
// A session takes default_transaction_read_only, statement_timeout and
// lock_timeout from the database's or role's settings when it starts
// (ALTER DATABASE … SET, the usual switch for a maintenance window, applies
// to new sessions only). Once such a setting is reset, pooled sessions would
// go on refusing writes or cancelling statements (a 503, see
// databaseState) until recycled, an hour by default. So the pool does not
// hand out again a session on which a statement failed for one of these
// reasons (SQLSTATE 25006, 57014, 55P03: the next one gets the database's
// current settings), nor one that started read-only once it is older than
// readOnlyRecheck (PostgreSQL 14 and later report that setting to the
// client): writes succeed again within seconds of the reset, without a
// restart. Sessions of a hot standby do not report the setting as on: they
// become writable by themselves when the standby is promoted.

// readOnlyRecheck is how long a session that started read-only is used.
var readOnlyRecheck = 5 * time.Second

// sessionSettings is the pool's query tracer, and its hooks around
// connecting, acquiring and closing.
type sessionSettings struct {
	failed  sync.Map // *pgx.Conn → struct{}: a statement failed for its settings
	started sync.Map // *pgx.Conn → time.Time: when its session started
	// keepIsolation: the connection URL sets default_transaction_isolation.
	keepIsolation bool
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
	return nil
}

// usable reports, when conn is acquired, whether its session may serve:
// not one on which a statement failed for its settings, nor one that started
// read-only longer than readOnlyRecheck ago. (Checked here rather than on
// release: pgxpool runs an AfterRelease hook on a goroutine of its own.)
func (s *sessionSettings) usable(conn *pgx.Conn) bool {
	if _, failed := s.failed.LoadAndDelete(conn); failed {
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
}

func (s *sessionSettings) note(conn *pgx.Conn, err error) {
	if err == nil {
		return
	}
	switch pgCode(err) {
	case pgerrcode.ReadOnlySQLTransaction, pgerrcode.QueryCanceled, pgerrcode.LockNotAvailable:
		s.failed.Store(conn, struct{}{})
	}
}

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
