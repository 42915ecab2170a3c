package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Schema changes next to a serving fleet. A migration's DDL waits for the
// locks of the tables it changes (DROP INDEX takes ACCESS EXCLUSIVE, CREATE
// TRIGGER SHARE ROW EXCLUSIVE), and every query that asks for a
// conflicting lock afterwards queues behind the waiting DDL. So one long
// transaction (a Python worker's slow candidates query, a session left idle
// in transaction) held every reader and writer of the table for as long as
// it lasted. Sync's DDL therefore runs with lock_timeout = ddlLockTimeout:
// after that it gives up its place in the queue, pauses ddlRetryPause while
// the queued queries run, and tries again, for up to ddlLockWait; then it
// fails and names the oldest transactions holding locks on Placement's
// tables. A migration file runs as one implicit transaction, so a step that
// gave up applied nothing.
var (
	ddlLockTimeout = time.Second
	ddlRetryPause  = 2 * time.Second
	ddlLockWait    = 2 * time.Minute
)

// setLockTimeout bounds the lock waits of the session's statements.
func setLockTimeout(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", ddlLockTimeout.Milliseconds()))
	return err
}

// isLockTimeout reports whether err is a statement that gave up waiting
// for a lock (SQLSTATE 55P03).
func isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgerrcode.LockNotAvailable
}

// retryLocks runs step, a schema change that gives up on lock waits longer
// than ddlLockTimeout, until it succeeds, fails otherwise, or ddlLockWait
// has passed. undo, if not nil, runs after each timed-out attempt to
// restore what the step's bookkeeping recorded (golang-migrate's dirty
// flag). conn reads who holds the locks.
func retryLocks(ctx context.Context, conn *pgx.Conn, what string, step, undo func() error) error {
	deadline := time.Now().Add(ddlLockWait)
	for attempt := 1; ; attempt++ {
		err := step()
		if !isLockTimeout(err) {
			return err
		}
		if undo != nil {
			if uerr := undo(); uerr != nil {
				return fmt.Errorf("%w; and then: %w", err, uerr)
			}
		}
		holders := lockHolders(ctx, conn)
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s waiting for table locks that other sessions hold: %s; "+
				"end them (pg_terminate_backend) or run it again when they are done", ddlLockWait, holders)
		}
		slog.Warn("schema change waiting for locks held by other transactions; other queries run meanwhile",
			"step", what, "attempt", attempt, "holders", holders)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(ddlRetryPause):
		}
	}
}

// execDDL runs ddl (one implicit transaction) on conn, whose lock waits
// setLockTimeout bounds, with retryLocks.
func execDDL(ctx context.Context, conn *pgx.Conn, what, ddl string) error {
	return retryLocks(ctx, conn, what, func() error {
		_, err := conn.Exec(ctx, ddl)
		return err
	}, nil)
}

// lockHoldersSQL lists the oldest other sessions holding locks on
// Placement's tables and indexes.
const lockHoldersSQL = `
SELECT a.pid, a.application_name, a.state,
	extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
	left(regexp_replace(a.query, '\s+', ' ', 'g'), 120)
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid() AND a.pid IN (
	SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	  AND c.relnamespace = ANY (current_schemas(false)::regnamespace[]) AND c.relname NOT LIKE 'pg\_%')
ORDER BY a.xact_start NULLS LAST
LIMIT 5`

// lockHolders describes lockHoldersSQL's sessions for a message.
func lockHolders(ctx context.Context, conn *pgx.Conn) string {
	rows, err := conn.Query(ctx, lockHoldersSQL)
	if err != nil {
		return "(could not list them: " + err.Error() + ")"
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var pid int32
		var app, state, query *string
		var seconds *float64
		if err := rows.Scan(&pid, &app, &state, &seconds, &query); err != nil {
			return "(could not list them: " + err.Error() + ")"
		}
		s := fmt.Sprintf("pid %d", pid)
		if app != nil && *app != "" {
			s += fmt.Sprintf(" (%s)", *app)
		}
		if state != nil {
			s += ", " + *state
		}
		if seconds != nil {
			s += fmt.Sprintf(", in a transaction for %s", time.Duration(*seconds*float64(time.Second)).Round(time.Second))
		}
		if query != nil && *query != "" {
			s += fmt.Sprintf(", last query %q", *query)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "(they have ended since)"
	}
	return strings.Join(out, "; ")
}
