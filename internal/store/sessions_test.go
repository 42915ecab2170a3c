package store_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// setReadOnly switches default_transaction_read_only of dsn's database,
// for the sessions that start afterwards, as an operator does for a
// maintenance window.
func setReadOnly(t *testing.T, dsn string, on bool) {
	t.Helper()
	if on {
		alterDatabase(t, dsn, "SET default_transaction_read_only = on")
	} else {
		alterDatabase(t, dsn, "RESET default_transaction_read_only")
	}
}

// alterDatabase runs ALTER DATABASE <dsn's database> <set>.
func alterDatabase(t *testing.T, dsn, set string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "off") // a session of its own may write
	q.Set("statement_timeout", "0")
	u.RawQuery = q.Encode()
	set = strings.ReplaceAll(set, "'", "''") // inside a quoted literal
	testdb.Exec(t, u.String(), `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I `+set+`', current_database()); END $$`)
}

// TestReadOnlyDatabase starts on a database whose sessions are read-only:
// seeding needs no write when nothing is missing, reads work, and a write
// is a 503 that names the cause. Once the setting is reset, writes succeed
// again on the same pool of one connection: at once when the read-only
// session was retired by its failed write, and after readOnlyRecheck when
// a read had opened another read-only session meanwhile. (Not parallel:
// it sets readOnlyRecheck.)
func TestReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name        string
		recheck     time.Duration
		readBetween bool
	}{
		{"the failed write retires its session", time.Hour, false},
		{"an old read-only session is not used again", 100 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer store.SetReadOnlyRecheck(tt.recheck)()
			dsn := testdb.New(t)
			setReadOnly(t, dsn, true)
			pool := testdb.PoolOn(t, dsn, 1)
			if err := store.SeedStandard(ctx, pool); err != nil {
				t.Fatalf("SeedStandard on a seeded, read-only database: %v", err)
			}
			s := store.New(pool)
			_, _, err := s.EnsureTrait(ctx, "CUSTOM_READ_ONLY")
			got := store.Classify(err)
			if placement.KindOf(got) != placement.Unavailable || got.Error() != store.MsgDatabaseReadOnly {
				t.Fatalf("write on a read-only database: %v, classified %v (kind %v); want Unavailable %q",
					err, got, placement.KindOf(got), store.MsgDatabaseReadOnly)
			}
			if tt.readBetween {
				if _, err := s.Providers(ctx, store.ProviderFilter{}); err != nil {
					t.Fatalf("read on a read-only database: %v", err)
				}
			}

			setReadOnly(t, dsn, false)
			if tt.readBetween {
				time.Sleep(2 * tt.recheck)
			}
			if _, _, err := s.EnsureTrait(ctx, "CUSTOM_READ_ONLY"); err != nil {
				t.Fatalf("write after the database became writable again: %v", err)
			}
		})
	}
}

// TestSeedStandard_ReadOnlyAndMissing: a read-only database that lacks
// standard rows still fails to seed, with the database's reason.
func TestSeedStandard_ReadOnlyAndMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	setReadOnly(t, dsn, true)
	pool := testdb.PoolOn(t, dsn, 1)
	err := store.SeedStandard(ctx, pool)
	if got := store.Classify(err); got == nil || got.Error() != store.MsgDatabaseReadOnly {
		t.Fatalf("SeedStandard on an unseeded, read-only database: %v, want the read-only error", err)
	}
}

// TestStatementTimeout: a statement the database's statement_timeout
// cancels is a 503 that says so, and once the setting is reset the next
// statement runs on the same pool of one connection: the session that
// carried the old setting is not used again.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.New(t)
	alterDatabase(t, dsn, "SET statement_timeout = 50") // milliseconds
	pool := testdb.PoolOn(t, dsn, 1)
	_, err := pool.Exec(ctx, "SELECT pg_sleep(0.2)")
	if got := store.Classify(err); placement.KindOf(got) != placement.Unavailable || got.Error() != store.MsgDatabaseCancelled {
		t.Fatalf("a statement past statement_timeout: %v, classified %v; want Unavailable %q", err, got, store.MsgDatabaseCancelled)
	}
	alterDatabase(t, dsn, "RESET statement_timeout")
	if _, err := pool.Exec(ctx, "SELECT pg_sleep(0.2)"); err != nil {
		t.Fatalf("after the setting was reset: %v", err)
	}
}

// TestOpen_LibpqParameters opens a pool on a URL with parameters only
// libpq knows, as the Python service's configuration may carry; the server
// refused the connection when pgx sent them on as settings.
func TestOpen_LibpqParameters(t *testing.T) {
	t.Parallel()
	dsn := testdb.WithQuery(testdb.New(t), "keepalives_idle=30&tcp_user_timeout=10000&fallback_application_name=nova")
	var name string
	if err := testdb.PoolOn(t, dsn, 2).QueryRow(context.Background(), "SHOW application_name").Scan(&name); err != nil || name != "nova" {
		t.Errorf("application_name %q (%v), want nova", name, err)
	}
}

// TestIsolationLevel: the pool's sessions run at READ COMMITTED, which the
// write path is built for, even when the database defaults to
// serializable; a level given in the URL stays.
func TestIsolationLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.New(t)
	alterDatabase(t, dsn, "SET default_transaction_isolation = 'serializable'")
	explicit := testdb.WithQuery(dsn, "default_transaction_isolation=repeatable%20read")
	for _, tt := range []struct{ dsn, want string }{
		{dsn, "read committed"},
		{explicit, "repeatable read"},
	} {
		var level string
		err := testdb.PoolOn(t, tt.dsn, 1).QueryRow(ctx, "SHOW transaction_isolation").Scan(&level)
		if err != nil || level != tt.want {
			t.Errorf("%s: transaction_isolation %q (%v), want %q", tt.dsn, level, err, tt.want)
		}
	}
}

// TestPreparedStatementClash: behind a transaction pooler (PgBouncer's
// pool_mode = transaction) a server session lacks the statements pgx
// prepared on another, or holds another client's. Here every session loses
// its prepared statements behind pgx's back: the write and the reads that
// meet that still succeed (they run again), and from then on the pool's
// sessions prepare nothing.
func TestPreparedStatementClash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(testdb.Migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("default_query_exec_mode") // statements prepared by name, as by default
	u.RawQuery = q.Encode()
	pool := testdb.PoolOn(t, u.String(), 2)
	if err := store.SeedStandard(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := store.New(pool)
	s.CandidateCache = false
	rp, err := s.CreateProvider(ctx, store.NewProvider{UUID: uuid.NewString(), Name: "clash"})
	if err != nil {
		t.Fatal(err)
	}
	modes := func() (prepared int) {
		t.Helper()
		var conns []*pgxpool.Conn
		defer func() {
			for _, c := range conns {
				c.Release()
			}
		}()
		for range 2 {
			c, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if c.Conn().Config().DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
				prepared++
				if err := c.Conn().PgConn().Exec(ctx, "DEALLOCATE ALL").Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
		return prepared
	}
	inv := placement.Inventory{Total: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 1}
	write := func(generation int) error {
		_, err := s.SetInventories(ctx, rp.UUID, generation, map[string]placement.Inventory{"VCPU": inv})
		return err
	}
	// Both sessions run (and prepare) the write's and the read's statements.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = s.ProviderByUUID(ctx, rp.UUID); _ = write(rp.Generation) }()
	}
	wg.Wait()
	if n := modes(); n != 2 {
		t.Fatalf("%d of 2 sessions prepare statements before any clash", n)
	}
	// One of the two writes above won.
	if err := write(rp.Generation + 1); err != nil {
		t.Fatalf("a write whose statements the session lacks: %v", err)
	}
	if got, err := s.ProviderByUUID(ctx, rp.UUID); err != nil || got.Generation != rp.Generation+2 {
		t.Fatalf("a read after it: %+v, %v", got, err)
	}
	if n := modes(); n != 0 {
		t.Fatalf("%d sessions still prepare statements after a clash", n)
	}
}
