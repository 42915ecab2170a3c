package store_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestPoolTimeout: with every connection taken, a statement waits
// pool_timeout and then fails as Unavailable (503); once a connection is
// free again statements run.
func TestPoolTimeout(t *testing.T) {
	pool := testdb.Pool(t, 1)
	s := store.New(pool)
	s.SetPoolTimeout(200 * time.Millisecond)
	ctx := context.Background()
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.ResourceClasses(ctx)
	if c := store.Classify(err); c == nil || c.Error() != store.MsgPoolTimeout || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("with the pool exhausted: %v after %v, want Unavailable after pool_timeout", err, time.Since(start))
	}
	held.Release()
	if _, err := s.ResourceClasses(ctx); err != nil {
		t.Fatalf("with a free connection: %v", err)
	}
	if _, err := s.ProviderByUUID(ctx, "00000000-0000-0000-0000-000000000000"); placement.KindOf(err) != placement.NotFound {
		t.Fatalf("unknown provider: %v, want NotFound", err)
	}
	// Every connection went back to the pool.
	if st := pool.Stat(); st.AcquiredConns() != 0 {
		t.Errorf("%d connections still acquired", st.AcquiredConns())
	}
}

// TestServerFull: when the server refuses new connections for want of
// slots (here a role's CONNECTION LIMIT; max_connections says the same
// SQLSTATE, 53300), statements wait for the pool's own connections
// instead of failing; a pool that has none fails at once with the 503 that
// names the cause.
func TestServerFull(t *testing.T) {
	dsn := testdb.New(t)
	role := "placement_limited_" + testutil.RandHex(4)
	testdb.Exec(t, dsn, "CREATE ROLE "+role+" LOGIN PASSWORD 'limited' CONNECTION LIMIT 2 IN ROLE "+currentUser(t, dsn))
	t.Cleanup(func() { testdb.Exec(t, dsn, "DROP ROLE "+role) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "limited")
	pool := testdb.PoolOn(t, u.String(), 8)
	s := store.New(pool)
	s.SetPoolTimeout(10 * time.Second)
	ctx := context.Background()
	errs := testutil.Concurrently(8, func(int) error {
		for range 10 {
			if _, err := s.ResourceClasses(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	if n := pool.Stat().TotalConns(); n > 2 {
		t.Errorf("%d connections, past the role's limit of 2", n)
	}

	// Both slots taken by another client: no connection of its own to
	// wait for.
	pool.Reset()
	for range 2 {
		conn := testdb.Connect(t, u.String())
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	start := time.Now()
	_, err = s.ResourceClasses(ctx)
	if c := store.Classify(err); placement.KindOf(c) != placement.Unavailable || c.Error() != store.MsgDatabaseOutOfResources {
		t.Errorf("with every slot taken elsewhere: %v, want the 503 %q", c, store.MsgDatabaseOutOfResources)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("with no connection of its own to wait for, it waited %v", took)
	}
}

// currentUser is the user dsn logs in as.
func currentUser(t *testing.T, dsn string) string {
	t.Helper()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(context.Background())
	var name string
	if err := conn.QueryRow(context.Background(), "SELECT quote_ident(current_user)").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPooledSelectRetriedAfterTermination: a pooled SELECT whose backend is
// terminated while it runs (here while it waits for a table lock) has
// returned nothing yet, so it runs again on another connection instead of
// answering 503: whether it was being prepared (the break shows when it is
// sent) or was prepared already (pgx sends it without waiting, and the
// break shows when its first row is read).
func TestPooledSelectRetriedAfterTermination(t *testing.T) {
	for _, prepared := range []bool{false, true} {
		t.Run(map[bool]string{false: "first use", true: "prepared"}[prepared], func(t *testing.T) {
			dsn := testdb.New(t)
			s := store.New(testdb.PoolOn(t, dsn, 1)) // one connection: the statement stays prepared on it
			other := testdb.Connect(t, dsn)
			ctx := context.Background()
			if prepared {
				if _, err := s.ResourceClasses(ctx); err != nil {
					t.Fatal(err)
				}
			}
			lock, err := testdb.Connect(t, dsn).Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback(ctx)
			if _, err := lock.Exec(ctx, `LOCK TABLE resource_classes IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := s.ResourceClasses(ctx)
				done <- err
			}()
			deadline := time.Now().Add(10 * time.Second)
			for terminated := 0; terminated == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the read never waited for the lock")
				}
				err := other.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&terminated)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			lock.Rollback(ctx)
			if err := <-done; err != nil {
				t.Fatalf("read whose backend was terminated: %v, want it run again", err)
			}
		})
	}
}
