package store

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

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

// afterLoss waits a moment before a statement or transaction that lost its
// connection runs again (5 ms, then 10): when many sessions ended at once
// (backends terminated, a pooler or the database restarted) the pool's
// other idle connections are dying too, and a backend sends its FATAL
// only once it acts on the signal. After the pause the pre-use check
// (idleConnAlive) sees it, and the retry gets a live connection rather
// than another dying one.
func afterLoss(ctx context.Context, attempt int) {
	t := time.NewTimer(time.Duration(5<<attempt) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// connLost reports whether err means the connection to the server broke
// (rather than a statement failing on a healthy connection).
func connLost(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return serverGoing(pe) || sessionEnded(pe)
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || (errors.As(err, &ne) && !ne.Timeout()) ||
		pgconn.SafeToRetry(err)
}
