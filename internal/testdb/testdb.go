// Package testdb gives tests real PostgreSQL databases. TEST_DATABASE_URL
// names a server where the user may create databases; each test gets a fresh
// database cloned from a template that was migrated and seeded once per test
// process (New), or for tests of the migrations an empty one (Empty), one
// migrated but not seeded (Migrated) or one as the Python service leaves
// it (Python). Without TEST_DATABASE_URL tests skip,
// except under CI=true where that is a failure.
package testdb

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/migrations"
)

var (
	once     sync.Once
	template string
	setupErr error
	cloneMu  sync.Mutex
	counter  atomic.Int64
)

// ServerURL returns TEST_DATABASE_URL, skipping (or failing under CI) when unset.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set (required under CI=true)")
		}
		t.Skip("TEST_DATABASE_URL is not set; `make test` provisions a local PostgreSQL")
	}
	return u
}

// WithDatabase returns serverURL with its database name replaced by db.
func WithDatabase(serverURL, db string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return serverURL
	}
	u.Path = "/" + db
	return u.String()
}

// WithQuery returns dsn with the query parameters query added.
func WithQuery(dsn, query string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + query
	}
	return dsn + "?" + query
}

// New returns the URL of a fresh, migrated and seeded database that is
// dropped when the test ends.
func New(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	once.Do(func() { template, setupErr = makeTemplate(server) })
	if setupErr != nil {
		t.Fatalf("testdb: preparing template: %v", setupErr)
	}
	return create(t, server, fmt.Sprintf("%s_%d", template, counter.Add(1)), template)
}

// Empty returns the URL of a fresh database with no schema (for testing
// migrations) that is dropped when the test ends.
func Empty(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	return create(t, server, fmt.Sprintf("placement_empty_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000, counter.Add(1)), "")
}

// create creates the database name on server, a copy of from when that is
// not empty, drops it when the test ends and returns its URL.
func create(t testing.TB, server, name, from string) string {
	t.Helper()
	sql := `CREATE DATABASE ` + name
	if from != "" {
		// A template may have no other connection while it is copied.
		sql += ` TEMPLATE ` + from
		cloneMu.Lock()
		defer cloneMu.Unlock()
	}
	if err := exec(context.Background(), server, sql); err != nil {
		t.Fatalf("testdb: %s: %v", sql, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, server, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("testdb: dropping %s: %v", name, err)
		}
	})
	return WithDatabase(server, name)
}

// Migrated returns the URL of a fresh database with every migration
// applied but not seeded (New hands out seeded ones), dropped when the
// test ends.
func Migrated(t testing.TB) string {
	t.Helper()
	dsn := Empty(t)
	if err := migrate.Sync(context.Background(), dsn); err != nil {
		t.Fatalf("testdb: migrate: %v", err)
	}
	return dsn
}

// Python returns the URL of a fresh database as the Python service's
// "placement-manage db sync" leaves it: upstream's schema at alembic
// 422ece571366 (0001's SQL run by hand, which keeps alembic_version) and
// no golang-migrate table. It is dropped when the test ends.
func Python(t testing.TB) string {
	t.Helper()
	dsn := Empty(t)
	ddl, err := fs.ReadFile(migrations.FS, "0001_initial.up.sql")
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	Exec(t, dsn, string(ddl))
	Exec(t, dsn, `DROP TABLE IF EXISTS schema_migrations`)
	return dsn
}

// Connect opens a connection to dsn's database, failing the test if it
// cannot; the caller closes it.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

// Exec runs sql with args on dsn's database, on a connection of its own,
// and fails the test on an error.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn := Connect(t, dsn)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("exec %q: %v", firstLine(sql), err)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// Pool opens a pool of at most maxConns connections on a fresh database
// (New) and closes it when the test ends.
func Pool(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	return PoolOn(t, New(t), maxConns)
}

// PoolOn is Pool on the database of dsn.
func PoolOn(t testing.TB, dsn string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	pool, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxConns: maxConns})
	if err != nil {
		t.Fatalf("testdb: opening a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Main runs the tests of m, drops the template of this process and exits:
// a package whose tests use New calls it from its TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup drops the template of this process; Main calls it.
func Cleanup() {
	if template == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exec(ctx, os.Getenv("TEST_DATABASE_URL"), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, template))
}

func makeTemplate(server string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := fmt.Sprintf("placement_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	if err := exec(ctx, server, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	dsn := WithDatabase(server, name)
	if err := migrate.Sync(ctx, dsn); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	pool, err := store.Open(ctx, dsn, store.PoolOptions{MaxConns: 2})
	if err != nil {
		return "", err
	}
	err = store.SeedStandard(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	return name, nil
}

func exec(ctx context.Context, server, sql string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}
