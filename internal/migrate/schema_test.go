package migrate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// versionOneDatabase builds what this service's first release left: 0001's
// schema with golang-migrate version 1 recorded, and none of the later
// migrations.
func versionOneDatabase(t *testing.T) string {
	t.Helper()
	dsn := testdb.Python(t)
	testdb.Exec(t, dsn, `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
DELETE FROM schema_migrations;
INSERT INTO schema_migrations VALUES (1, false)`)
	return dsn
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	latest := int(migrate.LatestVersion)
	const dbSync = "run 'placement-manage db sync' (or set [placement_database] sync_on_startup = true)"

	tests := []struct {
		name    string
		db      func(t *testing.T) string
		state   migrate.SchemaState
		version int
		alembic string
		// wantErr is the whole Err() text, or "" for nil.
		wantErr string
		// syncs says Sync fixes it (and CheckSchema is then current).
		syncs bool
	}{{
		name:    "an empty database needs a sync",
		db:      func(t *testing.T) string { return testdb.Empty(t) },
		state:   migrate.SchemaEmpty,
		version: -1,
		wantErr: "database has no Placement schema yet: " + dbSync,
		syncs:   true,
	}, {
		name:    "a database only the Python service synced (422ece571366) is behind",
		db:      upstreamDatabase,
		state:   migrate.SchemaBehind,
		version: -1,
		alembic: migrate.RevisionConsumerTypes,
		wantErr: fmt.Sprintf("database schema is behind this release (version none, alembic 422ece571366; this release needs version %d): %s", latest, dbSync),
		syncs:   true,
	}, {
		name:    "a database upstream master synced (a082b8bb98d0) is behind",
		db:      masterDatabase,
		state:   migrate.SchemaBehind,
		version: -1,
		alembic: migrate.RevisionDropIndexes,
		wantErr: fmt.Sprintf("database schema is behind this release (version none, alembic a082b8bb98d0; this release needs version %d): %s", latest, dbSync),
		syncs:   true,
	}, {
		name:    "a database at an older upstream revision is behind",
		db:      func(t *testing.T) string { return legacyDatabase(t, migrate.RevisionIncompleteConsumers) },
		state:   migrate.SchemaBehind,
		version: -1,
		alembic: migrate.RevisionIncompleteConsumers,
		wantErr: fmt.Sprintf("database schema is behind this release (version none, alembic b5c396305c25; this release needs version %d): %s", latest, dbSync),
		syncs:   true,
	}, {
		name:    "a database at golang-migrate version 1 is behind",
		db:      versionOneDatabase,
		state:   migrate.SchemaBehind,
		version: 1,
		alembic: migrate.RevisionConsumerTypes,
		wantErr: fmt.Sprintf("database schema is behind this release (version 1, alembic 422ece571366; this release needs version %d): %s", latest, dbSync),
		syncs:   true,
	}, {
		name:    "a synced database is current",
		db:      func(t *testing.T) string { return testdb.Migrated(t) },
		state:   migrate.SchemaCurrent,
		version: latest,
		alembic: migrate.RevisionDropIndexes,
	}, {
		name: "a database a newer release migrated is ahead, which is no error",
		db: func(t *testing.T) string {
			dsn := testdb.Migrated(t)
			testdb.Exec(t, dsn, `UPDATE schema_migrations SET version = version + 1`)
			return dsn
		},
		state:   migrate.SchemaAhead,
		version: latest + 1,
		alembic: migrate.RevisionDropIndexes,
	}, {
		name: "a dirty database is refused",
		db: func(t *testing.T) string {
			dsn := testdb.Migrated(t)
			testdb.Exec(t, dsn, `UPDATE schema_migrations SET dirty = true`)
			return dsn
		},
		state:   migrate.SchemaDirty,
		version: latest,
		alembic: migrate.RevisionDropIndexes,
		wantErr: fmt.Sprintf("database schema is marked dirty at version %d (a migration failed part-way); repair the schema by hand, then run 'placement-manage db stamp <revision>'", latest),
	}, {
		name: "an unknown alembic revision is refused",
		db: func(t *testing.T) string {
			dsn := upstreamDatabase(t)
			testdb.Exec(t, dsn, `UPDATE alembic_version SET version_num = 'ffffffffffff'`)
			return dsn
		},
		state:   migrate.SchemaUnknown,
		version: -1,
		alembic: "ffffffffffff",
		wantErr: `database is at unknown alembic revision "ffffffffffff" (newer upstream Placement?); known revisions: b4ed3a175331, 611cd6dffd7b, b5c396305c25, 422ece571366, a082b8bb98d0`,
	}, {
		name: "tables without any recorded version are refused",
		db: func(t *testing.T) string {
			dsn := upstreamDatabase(t)
			testdb.Exec(t, dsn, `DROP TABLE alembic_version`)
			return dsn
		},
		state:   migrate.SchemaUnknown,
		version: -1,
		wantErr: "database has Placement tables but no recorded schema version (no alembic_version or schema_migrations row); run 'placement-manage db stamp <revision>' first",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := tt.db(t)
			before := schemaSignature(t, dsn)
			st, err := migrate.CheckSchema(ctx, dsn)
			if err != nil {
				t.Fatalf("CheckSchema: %v", err)
			}
			want := migrate.SchemaStatus{State: tt.state, Version: tt.version, Alembic: tt.alembic, Latest: migrate.LatestVersion}
			if st != want {
				t.Errorf("CheckSchema = %+v, want %+v", st, want)
			}
			gotErr := ""
			if err := st.Err(); err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Err() = %q\nwant     %q", gotErr, tt.wantErr)
			}
			if strings.Contains(gotErr, "\n") {
				t.Errorf("Err() spans several lines: %q", gotErr)
			}
			if d := diffLines(before, schemaSignature(t, dsn)); d != "" {
				t.Errorf("CheckSchema changed the schema:\n%s", d)
			}
			if !tt.syncs {
				return
			}
			if err := migrate.Sync(ctx, dsn); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			st, err = migrate.CheckSchema(ctx, dsn)
			if err != nil || st.State != migrate.SchemaCurrent || st.Err() != nil {
				t.Errorf("after Sync, CheckSchema = %+v, %v; want current", st, err)
			}
		})
	}
}

// TestLatestVersion_IsTheNewestEmbeddedMigration checks that CheckSchema's
// yardstick follows the files: a database at the newest embedded version is
// current and one just below it is behind, whatever that version is.
func TestLatestVersion_IsTheNewestEmbeddedMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	if v := queryInt(t, dsn, `SELECT version FROM schema_migrations`); v != int64(migrate.LatestVersion) {
		t.Fatalf("Sync ran the embedded migrations up to version %d, but LatestVersion = %d", v, migrate.LatestVersion)
	}
	testdb.Exec(t, dsn, `UPDATE schema_migrations SET version = version - 1`)
	st, err := migrate.CheckSchema(ctx, dsn)
	if err != nil || st.State != migrate.SchemaBehind {
		t.Errorf("one version below LatestVersion: CheckSchema = %+v, %v; want behind", st, err)
	}
}
