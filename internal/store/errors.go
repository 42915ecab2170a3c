package store

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// MsgUnstorableText is the 400 message of text the database refuses. The
// API rejects NUL bytes before they get here; this is the safety net.
const MsgUnstorableText = "The request contains a NUL (0x00) character or another character that cannot be stored."

// MsgDatabaseUnavailable is the 503 message while the database cannot be
// reached.
const MsgDatabaseUnavailable = "The database is unavailable. Please try again later."

// Classify returns err with the database errors the client should see as
// such turned into *placement.Error: a database that cannot be reached is
// Unavailable with MsgDatabaseUnavailable (the pool reconnects by itself,
// so the service recovers without a restart once the database is back),
// and text the database cannot store (a NUL byte, or a character the
// server encoding lacks) is Invalid with MsgUnstorableText. Any other
// error is returned unchanged. The API's renderer calls it on every error
// it has not already classified.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return &placement.Error{Kind: placement.Unavailable, Message: MsgDatabaseUnavailable, Err: err}
	}
	switch pgCode(err) {
	case pgerrcode.CharacterNotInRepertoire, pgerrcode.UntranslatableCharacter:
		return &placement.Error{Kind: placement.Invalid, Message: MsgUnstorableText, Err: err}
	}
	return err
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
		return serverGoing(pg) || pgerrcode.IsConnectionException(pg.Code)
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
