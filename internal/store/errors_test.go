package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

// TestClassify_TextTheDatabaseRefuses sends a NUL byte to PostgreSQL, as a
// request would if the API's own check missed one, and expects a 400 kind.
func TestClassify_TextTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	s, _ := rpStore(t)
	_, err := s.CreateProvider(context.Background(), store.NewProvider{UUID: uuid.NewString(), Name: "a\x00b"})
	if err == nil {
		t.Fatal("PostgreSQL accepted a NUL byte")
	}
	got := store.Classify(err)
	if placement.KindOf(got) != placement.Invalid || got.Error() != store.MsgUnstorableText {
		t.Fatalf("Classify(%v) = %v (kind %v), want Invalid %q", err, got, placement.KindOf(got), store.MsgUnstorableText)
	}
	if other := store.Classify(context.Canceled); other != context.Canceled {
		t.Fatalf("Classify(context.Canceled) = %v, want it unchanged", other)
	}
}

func TestClassify_Kinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want placement.Kind
	}{
		{"a refused connection", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, placement.Unavailable},
		{"a wrapped connection failure", fmt.Errorf("listing: %w", &pgconn.PgError{Code: pgerrcode.ConnectionFailure}), placement.Unavailable},
		{"an admin shutdown", &pgconn.PgError{Code: pgerrcode.AdminShutdown}, placement.Unavailable},
		{"a server not yet accepting connections", &pgconn.PgError{Code: pgerrcode.CannotConnectNow}, placement.Unavailable},
		{"a session ended by idle_session_timeout", &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: pgerrcode.IdleSessionTimeout}, placement.Unavailable},
		{"a session ended by idle_in_transaction_session_timeout", &pgconn.PgError{Severity: "FATAL", Code: pgerrcode.IdleInTransactionSessionTimeout}, placement.Unavailable},
		{"an internal error with a connection cause", &placement.Error{Kind: placement.Internal, Err: errors.New("conn closed")}, placement.Unavailable},
		{"a read-only database", fmt.Errorf("writing: %w", &pgconn.PgError{Code: pgerrcode.ReadOnlySQLTransaction}), placement.Unavailable},
		{"a statement timeout", &pgconn.PgError{Code: pgerrcode.QueryCanceled}, placement.Unavailable},
		{"a lock timeout", &pgconn.PgError{Code: pgerrcode.LockNotAvailable}, placement.Unavailable},
		{"a full disk", &pgconn.PgError{Code: pgerrcode.DiskFull}, placement.Unavailable},
		{"too many connections", &pgconn.PgError{Code: pgerrcode.TooManyConnections}, placement.Unavailable},
		{"a deadlock that outlasted the retries", &pgconn.PgError{Code: pgerrcode.DeadlockDetected}, placement.Conflict},
		{"a serialization failure", fmt.Errorf("writing: %w", &pgconn.PgError{Code: pgerrcode.SerializationFailure}), placement.Conflict},
		{"a constraint violation stays internal", &pgconn.PgError{Code: pgerrcode.ForeignKeyViolation}, placement.Internal},
		{"a NUL byte the database refused", fmt.Errorf("creating: %w", &pgconn.PgError{Code: pgerrcode.CharacterNotInRepertoire}), placement.Invalid},
		{"an untranslatable character", &placement.Error{Kind: placement.Internal, Err: &pgconn.PgError{Code: pgerrcode.UntranslatableCharacter}}, placement.Invalid},
		{"anything else", errors.New("boom"), placement.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := placement.KindOf(store.Classify(tt.err)); got != tt.want {
				t.Fatalf("kind = %v, want %v", got, tt.want)
			}
		})
	}
	if store.Classify(nil) != nil {
		t.Fatal("Classify(nil) is not nil")
	}
}

func TestConfigHint(t *testing.T) {
	t.Parallel()
	for _, code := range []string{pgerrcode.DuplicatePreparedStatement, pgerrcode.InvalidSQLStatementName} {
		if h := store.ConfigHint(fmt.Errorf("reading: %w", &pgconn.PgError{Code: code})); !strings.Contains(h, "default_query_exec_mode=exec") {
			t.Errorf("hint for SQLSTATE %s = %q, want the exec mode named", code, h)
		}
	}
	if h := store.ConfigHint(&pgconn.PgError{Code: pgerrcode.UniqueViolation}); h != "" {
		t.Errorf("hint for a unique violation = %q, want none", h)
	}
}
