// Package migrate brings a PostgreSQL database to the Placement schema with
// golang-migrate and the SQL files of package migrations, and keeps it
// interchangeable with upstream Placement: it adopts databases created by
// upstream's alembic migrations and keeps the alembic_version row at the
// equivalent upstream revision.
//
// Every function opens its own connections from a pgx URL
// (postgres://…); nothing here runs in a request path.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gomigrate "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/openstack-placement-go/placement/internal/libpq"
	"github.com/openstack-placement-go/placement/migrations"
)

// Upstream alembic revisions (spec 09 §6).
const (
	// RevisionInitial is upstream's first revision: every table except
	// consumer_types and consumers.consumer_type_id.
	RevisionInitial = "b4ed3a175331"
	// RevisionRootProviderIDs checks that no provider lacks a root id.
	RevisionRootProviderIDs = "611cd6dffd7b"
	// RevisionIncompleteConsumers checks that every allocation has a consumer.
	RevisionIncompleteConsumers = "b5c396305c25"
	// RevisionConsumerTypes adds consumer types; our version 1, and the head
	// of the reference release (8.0.0).
	RevisionConsumerTypes = "422ece571366"
	// RevisionDropIndexes is upstream master's head, which only drops
	// five redundant indexes; our version 4. 8.0.0's alembic does not know
	// it: an operator going back to the 8.0.0 service stamps 422ece571366
	// first (api-ref/operations.md).
	RevisionDropIndexes = "a082b8bb98d0"
)

// alembicRevisions lists upstream's revisions in order.
var alembicRevisions = []string{
	RevisionInitial,
	RevisionRootProviderIDs,
	RevisionIncompleteConsumers,
	RevisionConsumerTypes,
	RevisionDropIndexes,
}

// versionRevisions maps golang-migrate versions to the equivalent alembic
// revision. Versions absent here have no upstream equivalent.
var versionRevisions = map[uint]string{
	1: RevisionConsumerTypes,
	4: RevisionDropIndexes,
}

// LatestVersion is the golang-migrate version of the newest migration
// embedded in package migrations, read from the file names so that a new
// NNNN_*.up.sql file moves it without further edits. Version 1 is
// upstream's 422ece571366 (the head of 8.0.0), version 2 adds our
// placement_changes table, version 3 the triggers that fill it (change
// capture), and version 4 drops five redundant indexes as upstream master's
// head a082b8bb98d0 does. Upstream tolerates our additions, so the Python
// service can share the database. It is a variable only because it is
// computed; nothing assigns it.
var LatestVersion = embeddedLatest()

// embeddedLatest returns the highest version among the embedded up
// migrations, parsed as golang-migrate's iofs source parses them (files it
// cannot parse are skipped by both).
func embeddedLatest() uint {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		panic("migrate: reading embedded migrations: " + err.Error())
	}
	var latest uint
	for _, e := range entries {
		m, err := source.DefaultParse(e.Name())
		if err != nil || m.Direction != source.Up {
			continue
		}
		latest = max(latest, m.Version)
	}
	return latest
}

// alembicRevision returns the upstream revision equivalent to version v:
// that of the newest version up to v with an equivalent (versions after 1
// only add our own tables), or "" for none.
func alembicRevision(v uint) string {
	for ; v > 0; v-- {
		if rev, ok := versionRevisions[v]; ok {
			return rev
		}
	}
	return ""
}

// syncLockKey is the advisory lock that serialises Sync and Stamp across
// processes ("placemnt"). golang-migrate takes its own lock only around
// single steps; ours also covers adopting an upstream database.
const syncLockKey int64 = 0x706c6163656d6e74

// Sync brings the database at dsn (a pgx URL) to the latest schema,
// LatestVersion (alembic a082b8bb98d0, upstream master's head, plus our own
// tables). If the database was created by the original service
// (alembic_version present, no golang-migrate version): at 422ece571366 or
// a082b8bb98d0 it marks version 1 as applied (force) without running DDL
// and then migrates up from there (version 4 drops the redundant indexes if
// they are still there and moves alembic_version to a082b8bb98d0); at an
// older alembic revision
// (b4ed3a175331, 611cd6dffd7b, b5c396305c25) it checks the legacy data
// conditions (spec 09 §5.3), failing with a message telling the operator to
// run online data migrations, and otherwise applies the consumer_types step
// (moving alembic_version to 422ece571366) and records version 1. A
// golang-migrate version above LatestVersion is refused. Sync is idempotent
// and safe when several processes start at once: the whole operation runs
// under one advisory lock.
func Sync(ctx context.Context, dsn string) error {
	conn, unlock, err := lockedConn(ctx, dsn)
	if err != nil {
		return err
	}
	defer unlock()

	if err := setLockTimeout(ctx, conn); err != nil {
		return fmt.Errorf("prepare migration session: %w", err)
	}
	st, err := readState(ctx, conn)
	if err != nil {
		return err
	}
	if st.dirty {
		return errDirty(st)
	}
	if st.version > int(LatestVersion) {
		return fmt.Errorf("database schema version %d is newer than this release knows (%d)", st.version, LatestVersion)
	}
	if st.version < 0 && st.alembic == "" {
		var exists bool
		if err := conn.QueryRow(ctx, tableExistsSQL, "resource_providers").Scan(&exists); err != nil {
			return fmt.Errorf("inspect database: %w", err)
		}
		if exists {
			// Running 0001 would fail and leave version 1 marked dirty.
			return errNoVersion
		}
	}
	m, err := newMigrate(dsn)
	if err != nil {
		return err
	}
	defer m.Close()

	if st.version < 0 && st.alembic != "" {
		v, err := adopt(ctx, conn, st.alembic)
		if err != nil {
			return err
		}
		if err := m.Force(int(v)); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, flatten(err))
		}
	}
	up := func() error {
		if err := m.Up(); err != nil && !errors.Is(err, gomigrate.ErrNoChange) {
			return flatten(err)
		}
		return nil
	}
	// A migration that gave up on its locks applied nothing but is marked
	// dirty: record the one before it (versions are 1, 2, 3, ...).
	clean := func() error {
		st, err := readState(ctx, conn)
		if err != nil || !st.dirty {
			return err
		}
		prev := st.version - 1
		if prev < 1 {
			prev = database.NilVersion
		}
		return m.Force(prev)
	}
	if err := retryLocks(ctx, conn, "migrate database", up, clean); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if err := ensureChanges(ctx, conn); err != nil {
		return err
	}
	return ensureCapture(ctx, conn)
}

// ensureChanges applies the change-log migration again when its table is
// missing: development builds before the change log recorded version 2 for
// a migration that only dropped indexes. The migration is idempotent. A
// database that has the table is left alone, so that a sync with nothing
// to do writes nothing (and succeeds on a read-only database).
func ensureChanges(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, tableExistsSQL, "placement_changes").Scan(&exists); err != nil || exists {
		return err
	}
	return reapply(ctx, conn, "0002_placement_changes.up.sql", "ensure placement_changes")
}

// reapply runs the migration file again (those it is used for are
// idempotent); what names the step in logs and errors.
func reapply(ctx context.Context, conn *pgx.Conn, file, what string) error {
	ddl, err := migrations.FS.ReadFile(file)
	if err != nil {
		return err
	}
	if err := execDDL(ctx, conn, what, string(ddl)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// captureTriggers is the number of placement_capture_* triggers that
// 0003_change_capture.up.sql creates (store.captureTriggers).
const captureTriggers = 29

// ensureCapture re-applies the change capture migration when any of its
// triggers is missing or disabled (dropped or disabled by hand, or lost in
// a dump and restore). It is idempotent and ends by making every candidate
// cache reload. An intact capture is left alone: re-creating triggers
// would lock the tables.
func ensureCapture(ctx context.Context, conn *pgx.Conn) error {
	var n int
	err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_trigger
		WHERE tgname LIKE 'placement\_capture\_%' AND tgenabled IN ('O', 'A')`).Scan(&n)
	if err != nil || n == captureTriggers {
		return err
	}
	return reapply(ctx, conn, "0003_change_capture.up.sql", "restore change capture")
}

// Version returns the current golang-migrate version (0 when none is
// recorded), its dirty flag, and the alembic revision ("" when there is no
// alembic_version row). It changes nothing in the database.
func Version(ctx context.Context, dsn string) (version uint, dirty bool, alembic string, err error) {
	conn, err := connectToRead(ctx, dsn)
	if err != nil {
		return 0, false, "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := readState(ctx, conn)
	if err != nil {
		return 0, false, "", err
	}
	if st.version > 0 {
		version = uint(st.version)
	}
	return version, st.dirty, st.alembic, nil
}

// Revision returns the upstream alembic revision equivalent to the
// database's schema, as upstream's "placement-manage db version" prints it:
// the alembic_version row if there is one, else the revision equivalent to
// the golang-migrate version, else "".
func Revision(ctx context.Context, dsn string) (string, error) {
	v, _, alembic, err := Version(ctx, dsn)
	if err != nil || alembic != "" {
		return alembic, err
	}
	return alembicRevision(v), nil
}

// Stamp records rev as the database's schema version without running any
// DDL, like upstream's "placement-manage db stamp". rev is an alembic
// revision, "head" (= LatestVersion, alembic a082b8bb98d0),
// "base" or a golang-migrate version number. The golang-migrate version and
// the alembic_version row are both set (to their equivalents): 422ece571366
// and a082b8bb98d0 both record version 1 (the next Sync adds our own
// tables and drops the redundant indexes), with the alembic row holding the
// revision given; a revision older than
// 422ece571366 clears the golang-migrate version so that the next Sync
// adopts the database from there.
func Stamp(ctx context.Context, dsn, rev string) error {
	version, alembic, err := resolveRevision(rev)
	if err != nil {
		return err
	}
	conn, unlock, err := lockedConn(ctx, dsn)
	if err != nil {
		return err
	}
	defer unlock()

	m, err := newMigrate(dsn)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Force(version); err != nil {
		return fmt.Errorf("record schema version %d: %w", version, flatten(err))
	}
	if _, err := conn.Exec(ctx, stampAlembicSQL(alembic)); err != nil {
		return fmt.Errorf("update alembic_version: %w", err)
	}
	return nil
}

// resolveRevision turns a stamp argument into a golang-migrate version
// (database.NilVersion for none) and an alembic revision ("" for none).
func resolveRevision(rev string) (version int, alembic string, err error) {
	switch rev {
	case "head", "heads":
		return int(LatestVersion), alembicRevision(LatestVersion), nil
	case "base":
		return database.NilVersion, "", nil
	}
	if n, err := strconv.ParseUint(rev, 10, 32); err == nil {
		if n == 0 {
			return database.NilVersion, "", nil
		}
		if n <= uint64(LatestVersion) {
			return int(n), alembicRevision(uint(n)), nil
		}
		return 0, "", fmt.Errorf("unknown schema version %d (latest is %d)", n, LatestVersion)
	}
	if v, ok := revisionVersion(rev); ok {
		return int(v), rev, nil
	}
	if slices.Contains(alembicRevisions, rev) {
		return database.NilVersion, rev, nil
	}
	return 0, "", fmt.Errorf("unknown revision %q (known: %s, head, base)", rev, strings.Join(alembicRevisions, ", "))
}

// stampAlembicSQL returns the statements that leave alembic_version holding
// exactly rev, or empty for rev "". rev comes from alembicRevisions, never
// from user input verbatim.
func stampAlembicSQL(rev string) string {
	s := createAlembicVersionSQL + "DELETE FROM alembic_version;\n"
	if rev != "" {
		s += "INSERT INTO alembic_version (version_num) VALUES ('" + rev + "');\n"
	}
	return s
}

const createAlembicVersionSQL = `CREATE TABLE IF NOT EXISTS alembic_version (
    version_num character varying(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
`

// revisionVersion returns the golang-migrate version to record for a
// database at the alembic revision rev that lacks our own tables:
// 422ece571366 and a082b8bb98d0 are both version 1, since a082b8bb98d0
// differs from it only by five redundant indexes and version 4 drops them
// idempotently.
func revisionVersion(rev string) (uint, bool) {
	if rev == RevisionConsumerTypes || rev == RevisionDropIndexes {
		return 1, true
	}
	return 0, false
}

// adopt prepares a database created by upstream's alembic migrations and
// returns the golang-migrate version its schema now equals. A database at
// 422ece571366 or a082b8bb98d0 is left untouched here (version 1); the
// migrations after it do the rest.
func adopt(ctx context.Context, conn *pgx.Conn, rev string) (uint, error) {
	if v, ok := revisionVersion(rev); ok {
		return v, nil
	}
	i := slices.Index(alembicRevisions, rev)
	if i < 0 {
		return 0, errUnknownRevision(rev)
	}
	problems, err := legacyProblems(ctx, conn, rev)
	if err != nil {
		return 0, err
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("database at alembic revision %s cannot be upgraded: %s; run 'placement-manage db online_data_migrations' until it reports nothing left, then sync again",
			rev, strings.Join(problems, "; "))
	}
	// One simple-protocol Exec runs as one implicit transaction, so the
	// alembic_version update commits together with the DDL.
	if err := execDDL(ctx, conn, "add consumer types", consumerTypesSQL); err != nil {
		return 0, fmt.Errorf("upgrade from alembic revision %s to %s: %w", rev, RevisionConsumerTypes, err)
	}
	return 1, nil
}

// consumerTypesSQL is upstream's revision 422ece571366 applied to a schema
// at b5c396305c25 (or older, once the data conditions hold). It produces the
// same schema as 0001_initial.up.sql.
const consumerTypesSQL = `
CREATE TABLE consumer_types (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    name character varying(255) NOT NULL,
    CONSTRAINT consumer_types_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_consumer_types0name UNIQUE (name)
);
ALTER TABLE consumers ADD COLUMN consumer_type_id integer;
ALTER TABLE consumers ADD CONSTRAINT consumers_consumer_type_id_fkey
    FOREIGN KEY (consumer_type_id) REFERENCES consumer_types (id);
CREATE INDEX consumers_consumer_type_id_idx ON consumers (consumer_type_id);
DELETE FROM alembic_version;
INSERT INTO alembic_version (version_num) VALUES ('422ece571366');
`

// state is what the database says about its schema version.
type state struct {
	version int // golang-migrate version, database.NilVersion if none
	dirty   bool
	alembic string // "" if no alembic_version table or row
}

func (st state) String() string {
	v := "none"
	if st.version >= 0 {
		v = strconv.Itoa(st.version)
	}
	a := st.alembic
	if a == "" {
		a = "none"
	}
	return fmt.Sprintf("version %s, alembic %s", v, a)
}

func errDirty(st state) error {
	return fmt.Errorf("database schema is marked dirty at version %d (a migration failed part-way); repair the schema by hand, then run 'placement-manage db stamp <revision>'", st.version)
}

const tableExistsSQL = `SELECT to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) IS NOT NULL`

const stateTablesSQL = `
SELECT to_regclass(quote_ident(current_schema()) || '.schema_migrations') IS NOT NULL,
       to_regclass(quote_ident(current_schema()) || '.alembic_version') IS NOT NULL`

// readState reads golang-migrate's schema_migrations and upstream's
// alembic_version without creating either.
func readState(ctx context.Context, conn *pgx.Conn) (state, error) {
	st := state{version: database.NilVersion}
	var hasMigrate, hasAlembic bool
	if err := conn.QueryRow(ctx, stateTablesSQL).Scan(&hasMigrate, &hasAlembic); err != nil {
		return st, fmt.Errorf("read schema version: %w", err)
	}
	if hasMigrate {
		var v int64
		err := conn.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &st.dirty)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return st, fmt.Errorf("read schema_migrations: %w", err)
		default:
			st.version = int(v)
		}
	}
	if hasAlembic {
		revs, err := pgx.CollectRows(queryRows(ctx, conn, `SELECT version_num FROM alembic_version ORDER BY version_num`), pgx.RowTo[string])
		if err != nil {
			return st, fmt.Errorf("read alembic_version: %w", err)
		}
		switch len(revs) {
		case 0:
		case 1:
			st.alembic = revs[0]
		default:
			return st, fmt.Errorf("alembic_version holds several revisions (%s); upstream Placement has a single branch", strings.Join(revs, ", "))
		}
	}
	return st, nil
}

// queryRows adapts conn.Query to pgx.CollectRows: a query error surfaces from
// CollectRows through the returned Rows.
func queryRows(ctx context.Context, conn *pgx.Conn, sql string, args ...any) pgx.Rows {
	rows, _ := conn.Query(ctx, sql, args...)
	return rows
}

// connect opens one connection to dsn, which must be a postgres:// URL.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	if _, err := postgresURL(dsn); err != nil {
		return nil, err
	}
	conn, err := libpq.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return conn, nil
}

// connectToRead is connect for a session that only reads: its statements
// are not prepared by name (pgx's exec mode), so that it also works through
// a transaction pooler such as PgBouncer, which shares server sessions, and
// their prepared statements, between clients. placement-api's schema check
// at start and placement-status's checks then work there as the service
// does. (Sync and stamp refuse such a pooler: see lockedConn.)
func connectToRead(ctx context.Context, dsn string) (*pgx.Conn, error) {
	if _, err := postgresURL(dsn); err != nil {
		return nil, err
	}
	cfg, err := libpq.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if cfg.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return conn, nil
}

// ErrSharedSessions is the error of a sync or a stamp whose connection
// reaches a transaction pooler.
var ErrSharedSessions = errors.New("the connection reaches PostgreSQL through a transaction pooler (PgBouncer's pool_mode = transaction?), " +
	"whose server sessions are shared between clients: changing the schema holds an advisory lock across transactions, " +
	"which needs a session of its own; point this command at PostgreSQL itself, or at session pooling " +
	"(placement-api itself works through transaction pooling)")

// lockedConn connects and takes the sync advisory lock, waiting for another
// process to finish. The returned function releases the lock and closes the
// connection. It refuses a connection without a session of its own
// (sharedSessions): the lock could be left behind on a session another
// client then uses, and the next sync would wait for it forever.
func lockedConn(ctx context.Context, dsn string) (*pgx.Conn, func(), error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	if shared, err := sharedSessions(ctx, dsn, conn); shared || err != nil {
		conn.Close(context.WithoutCancel(ctx))
		if err == nil {
			err = ErrSharedSessions
		}
		return nil, nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, syncLockKey); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("lock database for migration: %w", err)
	}
	return conn, func() {
		// Closing the session releases the lock too; unlocking first just
		// frees it sooner if Close has to wait.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = conn.Exec(bg, `SELECT pg_advisory_unlock($1)`, syncLockKey)
		_ = conn.Close(bg)
	}, nil
}

// sessionProbeRounds is how many times sharedSessions looks, and
// probeWait how long it lets a statement wait for a pooled session.
const (
	sessionProbeRounds = 3
	probeWait          = 10 * time.Second
)

// sharedSessions reports whether conn's statements may run on a server
// session other clients use too, as behind a transaction pooler, which
// hands a client a server session for one transaction (or one statement)
// at a time. Another connection holds a transaction open, so that its
// session is taken; conn then sets a session setting, the transaction
// ends, and conn reads the setting back. On a session of its own conn
// finds the setting and the same backend; behind a transaction pooler
// its next statement gets a session back from the pool, usually the one
// just freed (PgBouncer hands out the most recently used first): another
// backend, without the setting. With one server session in the pool,
// conn's first statement waits for the transaction: that too means shared
// sessions, once it has waited longer (probeWait) than a trivial statement
// takes on any server that answers.
func sharedSessions(ctx context.Context, dsn string, conn *pgx.Conn) (bool, error) {
	other, err := connectToRead(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer other.Close(context.WithoutCancel(ctx))
	for round := range sessionProbeRounds {
		token := fmt.Sprintf("%d-%d", time.Now().UnixNano(), round)
		tx, err := other.Begin(ctx)
		if err != nil {
			return false, err
		}
		var held, first, again int
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&held); err != nil {
			_ = tx.Rollback(ctx)
			return false, err
		}
		wait, cancel := context.WithTimeout(ctx, probeWait)
		// Not prepared: a pooler's sessions may hold another client's
		// statement of the name pgx would give it.
		err = conn.QueryRow(wait, `SELECT pg_backend_pid() FROM set_config('placement.session_probe', $1, false)`,
			pgx.QueryExecModeSimpleProtocol, token).Scan(&first)
		waited := wait.Err() != nil
		cancel()
		if rerr := tx.Rollback(ctx); err == nil {
			err = rerr
		}
		if waited {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		var got string
		err = conn.QueryRow(ctx, `SELECT pg_backend_pid(), coalesce(current_setting('placement.session_probe', true), '')`,
			pgx.QueryExecModeSimpleProtocol).Scan(&again, &got)
		if err != nil {
			return false, err
		}
		if first == held || again != first || got != token {
			return true, nil
		}
	}
	return false, nil
}

// newMigrate returns a golang-migrate instance over the embedded migrations
// and the pgx5 driver. Opening it creates schema_migrations if needed.
func newMigrate(dsn string) (*gomigrate.Migrate, error) {
	u, err := postgresURL(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := libpq.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database for migration: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	// Its DDL gives up lock waits, as the Sync session's does (locks.go):
	// set after connecting, not as a startup parameter, which PgBouncer
	// refuses.
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(setLockTimeout))
	// The database name with its slash, as the driver takes it from a
	// URL: it seeds golang-migrate's advisory lock id.
	driver, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{DatabaseName: u.Path})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database for migration: %w", flatten(err))
	}
	m, err := gomigrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		driver.Close()
		return nil, fmt.Errorf("open database for migration: %w", flatten(err))
	}
	// Our own advisory lock already serialises callers; this only bounds
	// waiting for a golang-migrate CLI someone runs by hand.
	m.LockTimeout = 5 * time.Minute
	return m, nil
}

// postgresURL parses dsn, which must be a postgres:// or postgresql:// URL.
func postgresURL(dsn string) (*url.URL, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("database DSN must be a postgres:// URL")
	}
	return u, nil
}

// flatten turns golang-migrate's database.Error, whose text embeds the whole
// migration file, into a one-line error that keeps the cause.
func flatten(err error) error {
	var e database.Error
	var pe *database.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &pe):
		e = *pe
	default:
		return err
	}
	msg := e.Err
	if msg == "" {
		msg = "database error"
	}
	if e.Line > 0 {
		msg = fmt.Sprintf("%s (line %d)", msg, e.Line)
	}
	if e.OrigErr != nil {
		return fmt.Errorf("%s: %w", msg, e.OrigErr)
	}
	return errors.New(msg)
}
