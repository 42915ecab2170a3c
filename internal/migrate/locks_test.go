package migrate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// holdTable opens a transaction that reads resource_providers and keeps
// its lock (ACCESS SHARE, as a long read of the Python service would) until
// the returned function ends it.
func holdTable(t *testing.T, dsn, app string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	if _, err := conn.Exec(ctx, "SET application_name = '"+app+"'"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM resource_providers"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback(ctx)
			conn.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// readsWithin fails the test unless a read of resource_providers finishes
// within limit while the migration waits.
func readsWithin(t *testing.T, dsn string, limit time.Duration) {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", limit.Milliseconds())); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		start := time.Now()
		if _, err := conn.Exec(ctx, "SELECT count(*) FROM resource_providers"); err != nil {
			t.Fatalf("a reader behind the waiting migration: %v (after %s)", err, time.Since(start))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSync_LongTransactionDoesNotStallReaders upgrades a database the
// Python service serves while one of its transactions holds a lock on
// resource_providers: the migration's DROP INDEX must not hold every other
// reader behind it for as long as that transaction lasts, and it completes
// once the transaction ends.
func TestSync_LongTransactionDoesNotStallReaders(t *testing.T) {
	defer migrate.SetLockWaits(200*time.Millisecond, 300*time.Millisecond, time.Minute)()
	dsn := testdb.Python(t)
	release := holdTable(t, dsn, "python-worker")
	done := make(chan error, 1)
	go func() { done <- migrate.Sync(context.Background(), dsn) }()
	time.Sleep(300 * time.Millisecond)
	readsWithin(t, dsn, 2*time.Second)
	select {
	case err := <-done:
		t.Fatalf("Sync returned while the lock was held: %v", err)
	default:
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Sync after the transaction ended: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Sync did not finish within 30 s of the transaction's end")
	}
	st, err := migrate.CheckSchema(context.Background(), dsn)
	if err != nil || st.State != migrate.SchemaCurrent || st.Alembic != migrate.RevisionDropIndexes {
		t.Errorf("CheckSchema = %+v, %v; want current at %s", st, err, migrate.RevisionDropIndexes)
	}
}

// TestSync_GivesUpNamingTheHolder: a transaction that outlasts the wait
// makes Sync fail with a message naming it, leaving the schema version
// clean, so that the next Sync completes.
func TestSync_GivesUpNamingTheHolder(t *testing.T) {
	defer migrate.SetLockWaits(100*time.Millisecond, 100*time.Millisecond, time.Second)()
	dsn := testdb.Python(t)
	release := holdTable(t, dsn, "stuck-worker")
	err := migrate.Sync(context.Background(), dsn)
	if err == nil || !strings.Contains(err.Error(), "gave up after 1s") || !strings.Contains(err.Error(), "(stuck-worker), idle in transaction") {
		t.Fatalf("Sync = %v; want it to give up naming stuck-worker", err)
	}
	if _, dirty, _, err := migrate.Version(context.Background(), dsn); err != nil || dirty {
		t.Errorf("after giving up: dirty = %v, %v; want a clean version", dirty, err)
	}
	release()
	if err := migrate.Sync(context.Background(), dsn); err != nil {
		t.Fatalf("Sync once the transaction ended: %v", err)
	}
}
