package store

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// MsgUnstorableText is the 400 message of text the database refuses: a
// NUL byte in a query parameter the request uses as text (a provider
// name filter, a project id), which upstream answers 500. The API rejects
// NUL bytes in paths and bodies before they get here.
const MsgUnstorableText = "The request contains a NUL (0x00) character or another character that cannot be stored."

// MsgDatabaseUnavailable is the 503 message while the database cannot be
// reached.
const MsgDatabaseUnavailable = "The database is unavailable. Please try again later."

// The 503 messages of a database that is reachable but refuses the work
// for a while: its state or its limits, not the request, are the cause.
const (
	MsgDatabaseReadOnly       = "The database is read-only (a standby, or default_transaction_read_only is set). Please try again later."
	MsgDatabaseCancelled      = "The database cancelled the statement (its statement_timeout, or an administrator). Please try again later."
	MsgDatabaseLockTimeout    = "The database did not grant a lock within its lock_timeout. Please try again later."
	MsgDatabaseOutOfResources = "The database is out of resources (disk, memory or connections). Please try again later."
)

// Classify returns err with the database errors the client should see as
// such turned into *placement.Error:
//   - a statement that found no usable connection within pool_timeout
//     (ErrPoolTimeout) is Unavailable with MsgPoolTimeout;
//   - a database that cannot be reached is Unavailable with
//     MsgDatabaseUnavailable (the pool reconnects by itself, so the service
//     recovers without a restart once the database is back);
//   - a database that refuses the work for now is Unavailable with a
//     message that names the cause (refusal);
//   - a deadlock or serialization failure that outlasted withTx's retries
//     is a Conflict (concurrent_update), which clients retry;
//   - text the database cannot store (a NUL byte, or a character the
//     server encoding lacks) is Invalid with MsgUnstorableText.
//
// Any other error is returned unchanged. The API's renderer calls it on
// every error it has not already classified.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrPoolTimeout) {
		return &placement.Error{Kind: placement.Unavailable, Message: MsgPoolTimeout, Err: err}
	}
	code := pgCode(err)
	if msg, _ := refusal(code); msg != "" {
		return &placement.Error{Kind: placement.Unavailable, Message: msg, Err: err}
	}
	if unavailable(err) {
		return &placement.Error{Kind: placement.Unavailable, Message: MsgDatabaseUnavailable, Err: err}
	}
	switch code {
	case pgerrcode.DeadlockDetected, pgerrcode.SerializationFailure:
		return &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate,
			Message: MsgConsumerConcurrentUpdate, Err: err}
	case pgerrcode.CharacterNotInRepertoire, pgerrcode.UntranslatableCharacter:
		return &placement.Error{Kind: placement.Invalid, Message: MsgUnstorableText, Err: err}
	}
	return err
}

// ConfigHint returns what an operator should check when err comes from a
// known misconfiguration, or "": named prepared statements that another
// session's leftovers clash with, or that vanish between statements
// (SQLSTATE 42P05, 26000), mean a transaction pooler such as PgBouncer
// shares server sessions between clients (docs/deployment.md).
func ConfigHint(err error) string {
	switch pgCode(err) {
	case pgerrcode.DuplicatePreparedStatement, pgerrcode.InvalidSQLStatementName:
		return "behind PgBouncer's transaction pooling? add default_query_exec_mode=exec to [placement_database] connection_parameters"
	}
	return ""
}

// refusal returns the 503 message of an SQLSTATE that says the database
// refuses the work for now, or "", and whether a setting the session took
// when it started may be the cause (default_transaction_read_only,
// statement_timeout, lock_timeout): the pool then retires the session
// (sessions.go).
func refusal(code string) (msg string, sessionSetting bool) {
	switch {
	case code == pgerrcode.ReadOnlySQLTransaction:
		return MsgDatabaseReadOnly, true
	case code == pgerrcode.QueryCanceled:
		return MsgDatabaseCancelled, true
	case code == pgerrcode.LockNotAvailable:
		return MsgDatabaseLockTimeout, true
	case pgerrcode.IsInsufficientResources(code):
		return MsgDatabaseOutOfResources, false
	}
	return "", false
}

// serverGoing reports whether the server refused or ended the session
// because it is shutting down, crashed or is still starting.
func serverGoing(pe *pgconn.PgError) bool {
	switch pe.Code {
	case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow:
		return true
	}
	return false
}

// sessionEnded reports whether the server ended the session with the
// error (severity FATAL or PANIC): whatever the cause (an idle-session or
// idle-in-transaction timeout, a terminated backend, a dropped database),
// the connection is gone and its transaction with it.
func sessionEnded(pe *pgconn.PgError) bool {
	s := severity(pe)
	return s == "FATAL" || s == "PANIC"
}

// severity is the error's severity in English (ERROR, FATAL, PANIC, ...).
func severity(pe *pgconn.PgError) string {
	if pe.SeverityUnlocalized != "" {
		return pe.SeverityUnlocalized
	}
	return pe.Severity // the only one before PostgreSQL 9.6
}

// unavailable recognises connection failures: no connection could be
// made, the connection broke, the server is shutting down or starting, or
// the pool could not hand out a connection in time.
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return serverGoing(pg) || sessionEnded(pg) || pgerrcode.IsConnectionException(pg.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "failed to connect") || strings.Contains(msg, "closed pool")
}

// withoutNUL returns names less those with a NUL byte. No stored name has
// one (PostgreSQL cannot store it, and refuses a statement that carries
// it), so a lookup leaves them out and finds them unknown, as upstream
// does ("No such resource class", "No such trait(s)"). That also keeps
// them out of the change checks that concurrent requests share.
func withoutNUL(names []string) []string {
	if !slices.ContainsFunc(names, hasNUL) {
		return names
	}
	return slices.DeleteFunc(slices.Clone(names), hasNUL)
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
