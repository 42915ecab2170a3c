package migrate_test

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
	"github.com/openstack-placement-go/placement/migrations"
)

func queryInt(t *testing.T, dsn, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return n
}

// migrationSQL returns the text of an embedded migration file.
func migrationSQL(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(migrations.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// schemaSignature describes the schema in a form two databases can be
// compared by: columns in order with types, constraints, indexes and
// sequences. golang-migrate's own table is left out.
func schemaSignature(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(ctx)
	const q = `
SELECT 'column ' || table_name || '.' || ordinal_position || ' ' || column_name || ' ' ||
       data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable ||
       coalesce(' default ' || column_default, '')
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'schema_migrations'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
UNION ALL
SELECT 'sequence ' || sequencename || ' ' || data_type::text FROM pg_sequences WHERE schemaname = 'public'
UNION ALL
SELECT 'owned ' || s.relname || ' by ' || t.relname || '.' || a.attname
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.deptype = 'a'
ORDER BY 1`
	rows, _ := conn.Query(ctx, q)
	sig, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("schema signature: %v", err)
	}
	return sig
}

func diffLines(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

func wantVersion(t *testing.T, dsn string, version uint, alembic string) {
	t.Helper()
	v, dirty, a, err := migrate.Version(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if v != version || dirty || a != alembic {
		t.Fatalf("Version = (%d, %v, %q), want (%d, false, %q)", v, dirty, a, version, alembic)
	}
}

var redundantIndexes = []string{
	"inventories_resource_provider_id_idx",
	"inventories_resource_provider_resource_class_idx",
	"ix_placement_aggregates_uuid",
	"resource_providers_name_idx",
	"resource_providers_uuid_idx",
}

func countRedundantIndexes(t *testing.T, dsn string) int64 {
	t.Helper()
	return queryInt(t, dsn, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY($1)`, redundantIndexes)
}

var migrationFile = regexp.MustCompile(`^(\d+)_\w+\.(up|down)\.sql$`)

// TestLatestVersion_MatchesEmbeddedMigrations guards the policy that our head
// is version 4 (= a082b8bb98d0, upstream master's head, plus our own
// placement_changes table and its capture triggers): the embedded
// migrations stop at LatestVersion, each with an up and a down file.
func TestLatestVersion_MatchesEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	if migrate.LatestVersion != 4 {
		t.Errorf("LatestVersion = %d, want 4 (alembic %s)", migrate.LatestVersion, migrate.RevisionDropIndexes)
	}
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	files := map[uint64][]string{}
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("unexpected embedded file %q", e.Name())
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		files[v] = append(files[v], m[2])
	}
	for v := uint64(1); v <= uint64(migrate.LatestVersion); v++ {
		if got := files[v]; !slices.Contains(got, "up") || !slices.Contains(got, "down") {
			t.Errorf("version %d has files %q, want up and down", v, got)
		}
		delete(files, v)
	}
	for v := range files {
		t.Errorf("embedded migration version %d is beyond LatestVersion %d", v, migrate.LatestVersion)
	}
}

func TestVersion_EmptyDatabase(t *testing.T) {
	t.Parallel()
	dsn := testdb.Empty(t)
	wantVersion(t, dsn, 0, "")
	if rev, err := migrate.Revision(context.Background(), dsn); err != nil || rev != "" {
		t.Errorf("Revision = %q, %v; want empty", rev, err)
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("Version created %d tables, want none", n)
	}
}

func TestSync_FreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Empty(t)
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	if rev, err := migrate.Revision(ctx, dsn); err != nil || rev != migrate.RevisionDropIndexes {
		t.Errorf("Revision = %q, %v; want %q", rev, err, migrate.RevisionDropIndexes)
	}
	// Master's schema lacks the five redundant indexes.
	if n := countRedundantIndexes(t, dsn); n != 0 {
		t.Errorf("%d redundant indexes, want 0 (schema of a082b8bb98d0)", n)
	}
	n := queryInt(t, dsn, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'alembic_version')`)
	if n != 14 {
		t.Errorf("%d application tables, want 14 (12 upstream + placement_changes and its marks)", n)
	}
	n = queryInt(t, dsn, `SELECT count(*) FROM pg_sequences WHERE schemaname = 'public' AND data_type = 'integer'::regtype AND sequencename LIKE '%\_id\_seq'`)
	if n != 10 {
		t.Errorf("%d integer <table>_id_seq sequences, want 10", n)
	}
}

// TestSync_TwiceIsNoOp: a second sync changes nothing, and writes nothing:
// it succeeds on a database that has become read-only meanwhile.
func TestSync_TwiceIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	testdb.Exec(t, dsn, `INSERT INTO traits (name, created_at) VALUES ('CUSTOM_KEEP', now())`)
	before := schemaSignature(t, dsn)
	testdb.Exec(t, dsn, `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`)
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if d := diffLines(before, schemaSignature(t, dsn)); d != "" {
		t.Errorf("second Sync changed the schema:\n%s", d)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	if n := queryInt(t, dsn, `SELECT count(*) FROM traits WHERE name = 'CUSTOM_KEEP'`); n != 1 {
		t.Errorf("second Sync lost data")
	}
}

// TestSync_LibpqParameters syncs through a URL with parameters only libpq
// knows (internal/libpq), on both of Sync's connections: its own and
// golang-migrate's.
func TestSync_LibpqParameters(t *testing.T) {
	t.Parallel()
	dsn := testdb.Empty(t)
	if err := migrate.Sync(context.Background(), testdb.WithQuery(dsn, "keepalives=1&keepalives_idle=30&tcp_user_timeout=10000")); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
}

func TestSync_ConcurrentStarters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Empty(t)
	errs := testutil.Concurrently(4, func(int) error { return migrate.Sync(ctx, dsn) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("Sync %d: %v", i, err)
		}
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
}

// upstreamData inserts a few rows the way upstream would have.
const upstreamData = `
INSERT INTO resource_classes (id, name, created_at) VALUES (0, 'VCPU', '2020-01-02 03:04:05.123456'), (10000, 'CUSTOM_GOLD', '2020-01-02 03:04:05');
INSERT INTO traits (name, created_at) VALUES ('HW_CPU_X86_AVX2', '2020-01-02 03:04:05'), ('CUSTOM_RAID', '2020-01-02 03:04:05');
INSERT INTO resource_providers (uuid, name, generation, created_at) VALUES ('5a1c8b48-ec0a-4e6a-8a07-70d5f5ea6d9b', 'cn1', 3, '2020-01-02 03:04:05');
UPDATE resource_providers SET root_provider_id = id, updated_at = '2020-01-02 03:04:06';
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at)
    SELECT id, 0, 8, 0, 1, 8, 1, 16.0, '2020-01-02 03:04:05' FROM resource_providers;
INSERT INTO projects (external_id, created_at) VALUES ('p1', '2020-01-02 03:04:05');
INSERT INTO users (external_id, created_at) VALUES ('u1', '2020-01-02 03:04:05');
INSERT INTO consumers (uuid, project_id, user_id, generation, created_at) VALUES ('c0a3bd2c-4d74-4f49-a3e6-8e4f04a2bd3e', 1, 1, 1, '2020-01-02 03:04:05');
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at)
    SELECT id, 'c0a3bd2c-4d74-4f49-a3e6-8e4f04a2bd3e', 0, 2, '2020-01-02 03:04:05' FROM resource_providers;
INSERT INTO placement_aggregates (uuid, created_at) VALUES ('9d5bf6a8-8c6b-4fd2-9c1e-5d5a4f0f1d3c', '2020-01-02 03:04:05');
INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id) SELECT r.id, a.id FROM resource_providers r, placement_aggregates a;
INSERT INTO resource_provider_traits (trait_id, resource_provider_id) SELECT t.id, r.id FROM traits t, resource_providers r;
`

// dataDump renders every application row, to check that adoption leaves
// data alone.
func dataDump(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn := testdb.Connect(t, dsn)
	defer conn.Close(ctx)
	var out []string
	for _, table := range []string{"resource_classes", "traits", "resource_providers", "inventories", "projects", "users", "consumers", "allocations", "placement_aggregates", "resource_provider_aggregates", "resource_provider_traits"} {
		rows, _ := conn.Query(ctx, `SELECT t::text FROM `+table+` t ORDER BY 1`)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for _, r := range got {
			out = append(out, table+" "+r)
		}
	}
	return out
}

// upstreamDatabase builds what upstream's alembic would have left at
// 422ece571366 (testdb.Python) plus upstreamData.
func upstreamDatabase(t *testing.T) string {
	t.Helper()
	dsn := testdb.Python(t)
	testdb.Exec(t, dsn, upstreamData)
	return dsn
}

// masterDatabase builds what upstream master's alembic would have left at
// a082b8bb98d0: upstreamDatabase with the five redundant indexes dropped.
func masterDatabase(t *testing.T) string {
	t.Helper()
	dsn := upstreamDatabase(t)
	for _, name := range redundantIndexes {
		testdb.Exec(t, dsn, `DROP INDEX `+name)
	}
	testdb.Exec(t, dsn, `UPDATE alembic_version SET version_num = '`+migrate.RevisionDropIndexes+`'`)
	return dsn
}

// version3Database builds what the previous release (migrations 1 to 3,
// alembic 422ece571366) left: a synced database with 0004 undone, plus
// upstreamData.
func version3Database(t *testing.T) string {
	t.Helper()
	dsn := testdb.Migrated(t)
	testdb.Exec(t, dsn, migrationSQL(t, "0004_drop_redundant_indexes.down.sql"))
	testdb.Exec(t, dsn, `UPDATE schema_migrations SET version = 3`)
	testdb.Exec(t, dsn, upstreamData)
	return dsn
}

// wantSynced checks that dsn is at the latest version, with the schema of
// a fresh database (freshSchema) and the rows before.
func wantSynced(t *testing.T, dsn string, freshSchema, before []string) {
	t.Helper()
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	if d := diffLines(before, dataDump(t, dsn)); d != "" {
		t.Errorf("Sync changed data:\n%s", d)
	}
	if d := diffLines(freshSchema, schemaSignature(t, dsn)); d != "" {
		t.Errorf("synced schema differs from a fresh one:\n%s", d)
	}
}

func TestSync_AdoptsUpstreamDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	freshSchema := schemaSignature(t, testdb.Migrated(t))

	tests := []struct {
		name    string
		build   func(*testing.T) string
		version uint // golang-migrate version before Sync
		rev     string
		indexes int64
	}{
		{"a database at 422ece571366 (8.0.0) is adopted as version 1 and migrated to a082b8bb98d0",
			upstreamDatabase, 0, migrate.RevisionConsumerTypes, 5},
		{"a database at a082b8bb98d0 (master) is adopted as version 1 and gains our tables",
			masterDatabase, 0, migrate.RevisionDropIndexes, 0},
		{"a version 3 database of the previous release is migrated to a082b8bb98d0",
			version3Database, 3, migrate.RevisionConsumerTypes, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := tt.build(t)
			wantVersion(t, dsn, tt.version, tt.rev)
			if n := countRedundantIndexes(t, dsn); n != tt.indexes {
				t.Fatalf("test setup: %d redundant indexes, want %d", n, tt.indexes)
			}
			before := dataDump(t, dsn)
			for i := range 2 { // the second Sync must be a no-op
				if err := migrate.Sync(ctx, dsn); err != nil {
					t.Fatalf("Sync %d: %v", i+1, err)
				}
				wantSynced(t, dsn, freshSchema, before)
				if rev, err := migrate.Revision(ctx, dsn); err != nil || rev != migrate.RevisionDropIndexes {
					t.Errorf("Revision = %q, %v; want %q", rev, err, migrate.RevisionDropIndexes)
				}
			}
			results, ok, err := check(ctx, dsn)
			want := "Database Schema: Success: up to date (version 4, alembic a082b8bb98d0)"
			if err != nil || !ok || !slices.Contains(results, want) {
				t.Errorf("Check = %q, %v, %v; want ok with %q", results, ok, err, want)
			}
		})
	}
}

// legacyDatabase builds a database at one of upstream's revisions before
// 422ece571366: the 0001 schema without consumer types, plus upstreamData.
func legacyDatabase(t *testing.T, rev string) string {
	t.Helper()
	s := migrationSQL(t, "0001_initial.up.sql")
	for _, r := range []struct{ old, new string }{
		{"    consumer_type_id integer,\n", ""},
		{"    CONSTRAINT uniq_consumers0uuid UNIQUE (uuid),\n    CONSTRAINT consumers_consumer_type_id_fkey\n        FOREIGN KEY (consumer_type_id) REFERENCES consumer_types (id)\n",
			"    CONSTRAINT uniq_consumers0uuid UNIQUE (uuid)\n"},
		{"CREATE INDEX consumers_consumer_type_id_idx ON consumers (consumer_type_id);\n", ""},
		{"'422ece571366'", "'" + rev + "'"},
	} {
		if strings.Count(s, r.old) != 1 {
			t.Fatalf("0001_initial.up.sql no longer contains %q exactly once", r.old)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	i := strings.Index(s, "CREATE TABLE consumer_types (")
	j := strings.Index(s[i:], ");\n")
	s = s[:i] + s[i+j+3:]
	dsn := testdb.Empty(t)
	testdb.Exec(t, dsn, s)
	testdb.Exec(t, dsn, upstreamData)
	return dsn
}

func TestSync_LegacyRevisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	freshSchema := schemaSignature(t, testdb.Migrated(t))

	for _, rev := range []string{migrate.RevisionInitial, migrate.RevisionRootProviderIDs, migrate.RevisionIncompleteConsumers} {
		t.Run("a clean database at "+rev+" is upgraded", func(t *testing.T) {
			t.Parallel()
			dsn := legacyDatabase(t, rev)
			wantVersion(t, dsn, 0, rev)
			before := dataDump(t, dsn)
			// The consumers row text gains the new NULL consumer_type_id.
			for i := range before {
				if strings.HasPrefix(before[i], "consumers ") {
					before[i] = strings.TrimSuffix(before[i], ")") + ",)"
				}
			}
			if err := migrate.Sync(ctx, dsn); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			wantSynced(t, dsn, freshSchema, before)
		})
	}

	t.Run("legacy data blocks the upgrade until online migrations ran", func(t *testing.T) {
		t.Parallel()
		dsn := legacyDatabase(t, migrate.RevisionInitial)
		testdb.Exec(t, dsn, `INSERT INTO resource_providers (uuid, name, generation) VALUES ('11111111-1111-1111-1111-111111111111', 'old', 0)`)
		testdb.Exec(t, dsn, `INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used) VALUES (1, 'orphan-a', 0, 1), (1, 'orphan-a', 1, 1), (1, 'orphan-b', 0, 1)`)

		err := migrate.Sync(ctx, dsn)
		if err == nil {
			t.Fatal("Sync succeeded on legacy data")
		}
		for _, want := range []string{"1 resource providers have no root provider id", "2 allocation consumers", "online_data_migrations"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Sync error %q lacks %q", err, want)
			}
		}
		wantVersion(t, dsn, 0, migrate.RevisionInitial)

		results, ok, err := check(ctx, dsn)
		wantResults := []string{
			`Missing Root Provider IDs: Failure: There is at least one resource provider table record which misses its root provider id. Run the "placement-manage db online_data_migrations" command.`,
			`Incomplete Consumers: Warning: There are 2 incomplete consumers table records for existing allocations. Run the "placement-manage db online_data_migrations" command.`,
			`Database Schema: Warning: needs 'placement-manage db sync' (version none, alembic b4ed3a175331; this release needs version 4)`,
		}
		if err != nil || ok || !slices.Equal(results, wantResults) {
			t.Fatalf("Check = %q, %v, %v; want %q", results, ok, err, wantResults)
		}

		res, ran, failed, err := migrate.OnlineDataMigrations(ctx, dsn, migrate.OnlineOptions{
			MaxCount: 1, IncompleteProjectID: "p-incomplete", IncompleteUserID: "u-incomplete",
		})
		if err != nil || failed || ran != 1 {
			t.Fatalf("OnlineDataMigrations(max 1) = %v, %d, %v, %v", res, ran, failed, err)
		}
		want := []migrate.OnlineResult{{Name: "set_root_provider_ids", Found: 1, Done: 1}}
		if !slices.Equal(res, want) {
			t.Errorf("OnlineDataMigrations(max 1) results = %v, want %v", res, want)
		}

		var log strings.Builder
		res, ran, failed, err = migrate.OnlineDataMigrations(ctx, dsn, migrate.OnlineOptions{
			IncompleteProjectID: "p-incomplete", IncompleteUserID: "u-incomplete", Log: &log,
		})
		if err != nil || failed || ran != 0 {
			t.Fatalf("OnlineDataMigrations = %v, %d, %v, %v", res, ran, failed, err)
		}
		want = []migrate.OnlineResult{{Name: "set_root_provider_ids"}, {Name: "create_incomplete_consumers", Found: 2, Done: 2}}
		if !slices.Equal(res, want) {
			t.Errorf("OnlineDataMigrations results = %v, want %v", res, want)
		}
		if !strings.Contains(log.String(), "2 rows matched query create_incomplete_consumers, 2 migrated") {
			t.Errorf("log = %q", log.String())
		}
		n := queryInt(t, dsn, `SELECT count(*) FROM consumers c JOIN projects p ON p.id = c.project_id JOIN users u ON u.id = c.user_id
			WHERE p.external_id = 'p-incomplete' AND u.external_id = 'u-incomplete' AND c.generation = 0 AND c.created_at IS NOT NULL`)
		if n != 2 {
			t.Errorf("%d incomplete consumers created, want 2", n)
		}
		if n := queryInt(t, dsn, `SELECT count(*) FROM resource_providers WHERE name = 'old' AND root_provider_id = id AND updated_at IS NOT NULL`); n != 1 {
			t.Errorf("root provider id not set")
		}

		if results, ok, err := check(ctx, dsn); err != nil || !ok {
			t.Fatalf("Check after online migrations = %q, %v, %v", results, ok, err)
		}
		if err := migrate.Sync(ctx, dsn); err != nil {
			t.Fatalf("Sync after online migrations: %v", err)
		}
		wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	})
}

func TestSync_RefusesUnknownState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("an unknown alembic revision is refused", func(t *testing.T) {
		t.Parallel()
		dsn := upstreamDatabase(t)
		testdb.Exec(t, dsn, `UPDATE alembic_version SET version_num = 'ffffffffffff'`)
		err := migrate.Sync(ctx, dsn)
		if err == nil || !strings.Contains(err.Error(), `unknown alembic revision "ffffffffffff"`) {
			t.Fatalf("Sync = %v, want unknown revision error", err)
		}
		results, ok, err := check(ctx, dsn)
		if err != nil || ok {
			t.Errorf("Check = %q, %v, %v; want a failure", results, ok, err)
		}
	})
	t.Run("tables without any version are refused without marking the database dirty", func(t *testing.T) {
		t.Parallel()
		dsn := upstreamDatabase(t)
		testdb.Exec(t, dsn, `DROP TABLE alembic_version`)
		err := migrate.Sync(ctx, dsn)
		if err == nil || !strings.Contains(err.Error(), "db stamp") {
			t.Fatalf("Sync = %v, want a stamp hint", err)
		}
		wantVersion(t, dsn, 0, "")
	})
	t.Run("a golang-migrate version beyond LatestVersion is refused", func(t *testing.T) {
		t.Parallel()
		// What a newer build would leave.
		dsn := masterDatabase(t)
		testdb.Exec(t, dsn, `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (5, false)`)
		err := migrate.Sync(ctx, dsn)
		if err == nil || !strings.Contains(err.Error(), "version 5 is newer than this release knows (4)") {
			t.Fatalf("Sync = %v, want a newer-version error", err)
		}
		wantVersion(t, dsn, 5, migrate.RevisionDropIndexes)
		results, ok, err := check(ctx, dsn)
		want := "Database Schema: Failure: newer than this release knows (version 5, alembic a082b8bb98d0)"
		if err != nil || ok || !slices.Contains(results, want) {
			t.Errorf("Check = %q, %v, %v; want a failure with %q", results, ok, err, want)
		}
	})
}

func TestStamp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := upstreamDatabase(t)
	testdb.Exec(t, dsn, `DROP TABLE alembic_version`)

	for _, rev := range []string{"nonsense", "ffffffffffff", "-1"} {
		if err := migrate.Stamp(ctx, dsn, rev); err == nil {
			t.Errorf("Stamp accepted unknown revision %q", rev)
		}
	}
	if err := migrate.Stamp(ctx, dsn, "5"); err == nil || !strings.Contains(err.Error(), "unknown schema version 5 (latest is 4)") {
		t.Errorf("Stamp 5 = %v, want an unknown version error", err)
	}
	wantVersion(t, dsn, 0, "")

	steps := []struct {
		rev     string
		version uint
		alembic string
	}{
		{migrate.RevisionConsumerTypes, 1, migrate.RevisionConsumerTypes},
		{migrate.RevisionIncompleteConsumers, 0, migrate.RevisionIncompleteConsumers},
		{"head", 4, migrate.RevisionDropIndexes},
		// Version 1 with the revision as given: the next Sync runs our
		// migrations, which 0004 ends idempotently.
		{migrate.RevisionDropIndexes, 1, migrate.RevisionDropIndexes},
		{"1", 1, migrate.RevisionConsumerTypes},
		{"2", 2, migrate.RevisionConsumerTypes},
		{"3", 3, migrate.RevisionConsumerTypes},
		{"4", 4, migrate.RevisionDropIndexes},
		{"base", 0, ""},
		{"heads", 4, migrate.RevisionDropIndexes},
	}
	for _, st := range steps {
		if err := migrate.Stamp(ctx, dsn, st.rev); err != nil {
			t.Fatalf("Stamp %s: %v", st.rev, err)
		}
		wantVersion(t, dsn, st.version, st.alembic)
		if n := countRedundantIndexes(t, dsn); n != 5 {
			t.Fatalf("Stamp %s ran DDL: %d redundant indexes, want 5", st.rev, n)
		}
	}

	// Sync after stamping a082b8bb98d0 runs our migrations, the last of
	// which drops the indexes the stamp claimed were gone.
	if err := migrate.Stamp(ctx, dsn, migrate.RevisionDropIndexes); err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	if n := countRedundantIndexes(t, dsn); n != 0 {
		t.Errorf("%d redundant indexes after Sync, want 0", n)
	}

	// Going back to 8.0.0 (api-ref/operations.md): stamping 422ece571366
	// runs no DDL, and a later Sync returns to the head.
	if err := migrate.Stamp(ctx, dsn, migrate.RevisionConsumerTypes); err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	wantVersion(t, dsn, 1, migrate.RevisionConsumerTypes)
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
}

// check runs migrate.Check and returns its results as "<name>: <code>" or
// "<name>: <code>: <details>" lines, and whether none is a failure.
func check(ctx context.Context, dsn string) ([]string, bool, error) {
	results, err := migrate.Check(ctx, dsn)
	if err != nil {
		return nil, false, err
	}
	var lines []string
	ok := true
	for _, r := range results {
		l := r.Name + ": " + r.Code.String()
		if r.Details != "" {
			l += ": " + r.Details
		}
		lines = append(lines, l)
		ok = ok && r.Code != migrate.CheckFailure
	}
	return lines, ok, nil
}

func TestCheck(t *testing.T) {
	t.Parallel()
	empty := func(t *testing.T) string { return testdb.Empty(t) }
	synced := func(t *testing.T) string { return testdb.Migrated(t) }
	noRoot := func(t *testing.T) string {
		dsn := testdb.Migrated(t)
		testdb.Exec(t, dsn, `INSERT INTO resource_providers (uuid, name, generation) VALUES ('11111111-1111-1111-1111-111111111111', 'old', 0)`)
		return dsn
	}
	tests := []struct {
		name     string
		database func(t *testing.T) string
		ok       bool
		want     []string
	}{
		{"an empty database has nothing to fix", empty, true, []string{
			"Missing Root Provider IDs: Success",
			"Incomplete Consumers: Success",
			"Database Schema: Warning: needs 'placement-manage db sync' (version none, alembic none; this release needs version 4)",
		}},
		{"a synced database passes every check", synced, true, []string{
			"Missing Root Provider IDs: Success",
			"Incomplete Consumers: Success",
			"Database Schema: Success: up to date (version 4, alembic a082b8bb98d0)",
		}},
		{"a provider without a root is a failure", noRoot, false, []string{
			`Missing Root Provider IDs: Failure: There is at least one resource provider table record which misses its root provider id. Run the "placement-manage db online_data_migrations" command.`,
			"Incomplete Consumers: Success",
			"Database Schema: Success: up to date (version 4, alembic a082b8bb98d0)",
		}},
		{"a database at a082b8bb98d0 only needs a sync", masterDatabase, true, []string{
			"Missing Root Provider IDs: Success",
			"Incomplete Consumers: Success",
			"Database Schema: Warning: needs 'placement-manage db sync' (version none, alembic a082b8bb98d0; this release needs version 4)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			results, ok, err := check(context.Background(), tt.database(t))
			if err != nil || ok != tt.ok || !slices.Equal(results, tt.want) {
				t.Errorf("Check = %#v, %v, %v; want %#v, %v", results, ok, err, tt.want, tt.ok)
			}
		})
	}
}

func TestMigrations_DownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	want := schemaSignature(t, dsn)
	testdb.Exec(t, dsn, migrationSQL(t, "0004_drop_redundant_indexes.down.sql"))
	if n := countRedundantIndexes(t, dsn); n != 5 {
		t.Errorf("0004 down recreated %d of the 5 redundant indexes", n)
	}
	if rev, err := migrate.Revision(ctx, dsn); err != nil || rev != migrate.RevisionConsumerTypes {
		t.Errorf("Revision after 0004 down = %q, %v; want %q", rev, err, migrate.RevisionConsumerTypes)
	}
	testdb.Exec(t, dsn, migrationSQL(t, "0003_change_capture.down.sql"))
	testdb.Exec(t, dsn, migrationSQL(t, "0002_placement_changes.down.sql"))
	testdb.Exec(t, dsn, migrationSQL(t, "0001_initial.down.sql"))
	if n := queryInt(t, dsn, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`); n != 0 {
		t.Errorf("0001 down left %d tables", n)
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM pg_sequences WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("0001 down left %d sequences", n)
	}
	testdb.Exec(t, dsn, `DROP TABLE schema_migrations`)
	wantVersion(t, dsn, 0, "")
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
	if d := diffLines(want, schemaSignature(t, dsn)); d != "" {
		t.Errorf("schema after down and up differs:\n%s", d)
	}
}

// TestSync_RestoresCapture: db sync puts back a capture trigger dropped or
// disabled by hand, and makes every candidate cache reload.
func TestSync_RestoresCapture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	const enabled = `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'placement\_capture\_%' AND tgenabled IN ('O', 'A')`
	if n := queryInt(t, dsn, enabled); n != 29 {
		t.Fatalf("%d capture triggers after sync, want 29", n)
	}
	testdb.Exec(t, dsn, `DROP TRIGGER placement_capture_delete ON allocations;
ALTER TABLE inventories DISABLE TRIGGER placement_capture_update;
DELETE FROM placement_changes`)
	if n := queryInt(t, dsn, enabled); n != 27 {
		t.Fatalf("%d capture triggers after dropping and disabling one, want 27", n)
	}
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dsn, enabled); n != 29 {
		t.Errorf("%d capture triggers after the second sync, want 29", n)
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM placement_changes WHERE resource_provider_id IS NULL`); n != 1 {
		t.Errorf("%d invalidate-all rows, want 1", n)
	}
}

// TestSync_RestoresChangeLog: a database recorded at the latest version
// without the change log (development builds before it recorded version 2
// for a migration that only dropped indexes) gets the log and its capture
// back from a sync.
func TestSync_RestoresChangeLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	testdb.Exec(t, dsn, migrationSQL(t, "0003_change_capture.down.sql"))
	testdb.Exec(t, dsn, migrationSQL(t, "0002_placement_changes.down.sql"))
	if err := migrate.Sync(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM pg_tables WHERE tablename = 'placement_changes'`); n != 1 {
		t.Errorf("placement_changes missing after sync")
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'placement\_capture\_%' AND tgenabled IN ('O', 'A')`); n != 29 {
		t.Errorf("%d capture triggers after sync, want 29", n)
	}
	wantVersion(t, dsn, migrate.LatestVersion, migrate.RevisionDropIndexes)
}
