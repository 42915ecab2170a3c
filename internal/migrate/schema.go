package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SchemaState says how a database's schema compares with LatestVersion, the
// newest migration this binary embeds.
type SchemaState int

const (
	// SchemaCurrent is at LatestVersion.
	SchemaCurrent SchemaState = iota
	// SchemaEmpty has no Placement tables and no recorded version.
	SchemaEmpty
	// SchemaBehind is older than LatestVersion, or was created by
	// upstream's alembic migrations alone (alembic_version row, no
	// golang-migrate version): Sync brings it up.
	SchemaBehind
	// SchemaAhead has a golang-migrate version above LatestVersion: a newer
	// release migrated it.
	SchemaAhead
	// SchemaDirty records a migration that failed part-way.
	SchemaDirty
	// SchemaUnknown has Placement tables but no recorded version, or an
	// alembic revision this release does not know; Sync refuses it.
	SchemaUnknown
)

// SchemaStatus is what CheckSchema found.
type SchemaStatus struct {
	State SchemaState
	// Version is the golang-migrate version, -1 when none is recorded.
	Version int
	// Alembic is the alembic_version row, "" when there is none.
	Alembic string
	// Latest is LatestVersion, the version this binary needs.
	Latest uint
}

// String describes the recorded versions, e.g. "version none, alembic
// 422ece571366".
func (s SchemaStatus) String() string {
	return state{version: s.Version, alembic: s.Alembic}.String()
}

// Err returns nil when placement-api can serve on the schema (SchemaCurrent,
// and SchemaAhead, which it serves with a warning), and otherwise a one-line
// error saying what the operator should run.
func (s SchemaStatus) Err() error {
	const sync = "run 'placement-manage db sync' (or set [placement_database] sync_on_startup = true)"
	switch s.State {
	case SchemaCurrent, SchemaAhead:
		return nil
	case SchemaEmpty:
		return errors.New("database has no Placement schema yet: " + sync)
	case SchemaBehind:
		return fmt.Errorf("database schema is behind this release (%s; this release needs version %d): %s", s, s.Latest, sync)
	case SchemaDirty:
		return errDirty(state{version: s.Version, dirty: true, alembic: s.Alembic})
	case SchemaUnknown:
		if s.Alembic != "" {
			return errUnknownRevision(s.Alembic)
		}
		return errNoVersion
	}
	return fmt.Errorf("database schema in unexpected state %d (%s)", s.State, s)
}

var errNoVersion = errors.New("database has Placement tables but no recorded schema version (no alembic_version or schema_migrations row); run 'placement-manage db stamp <revision>' first")

func errUnknownRevision(rev string) error {
	return fmt.Errorf("database is at unknown alembic revision %q (newer upstream Placement?); known revisions: %s",
		rev, strings.Join(alembicRevisions, ", "))
}

// CheckSchema reports how the schema of the database at dsn (a pgx URL)
// compares with LatestVersion, without changing anything. err is set only
// when the database could not be read.
func CheckSchema(ctx context.Context, dsn string) (SchemaStatus, error) {
	conn, err := connectToRead(ctx, dsn)
	if err != nil {
		return SchemaStatus{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := readState(ctx, conn)
	if err != nil {
		return SchemaStatus{}, err
	}
	s := SchemaStatus{Version: st.version, Alembic: st.alembic, Latest: LatestVersion}
	switch {
	case st.dirty:
		s.State = SchemaDirty
	case st.version > int(LatestVersion):
		s.State = SchemaAhead
	case st.version == int(LatestVersion):
		s.State = SchemaCurrent
	case st.version >= 0:
		s.State = SchemaBehind
	case st.alembic != "":
		s.State = SchemaBehind
		if !slices.Contains(alembicRevisions, st.alembic) {
			s.State = SchemaUnknown
		}
	default:
		var exists bool
		if err := conn.QueryRow(ctx, tableExistsSQL, "resource_providers").Scan(&exists); err != nil {
			return SchemaStatus{}, fmt.Errorf("inspect database: %w", err)
		}
		s.State = SchemaEmpty
		if exists {
			s.State = SchemaUnknown
		}
	}
	return s, nil
}
