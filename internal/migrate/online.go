package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the checks and online migrations need from a connection
// or transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DefaultOnlineBatchSize is the batch size of online data migrations run
// without a maximum count, as upstream.
const DefaultOnlineBatchSize = 50

// OnlineOptions configures OnlineDataMigrations.
type OnlineOptions struct {
	// MaxCount limits the rows migrated in this run; 0 means "batches of
	// DefaultOnlineBatchSize until nothing is left".
	MaxCount int
	// IncompleteProjectID and IncompleteUserID are the external ids recorded
	// for consumers created for orphaned allocations
	// ([placement] incomplete_consumer_project_id / _user_id).
	IncompleteProjectID string
	IncompleteUserID    string
	// Log receives progress lines in upstream's wording; nil discards them.
	Log io.Writer
}

// OnlineResult is the cumulative outcome of one online data migration.
type OnlineResult struct {
	Name  string
	Found int // rows that needed migrating, summed over batches
	Done  int // rows migrated
}

// onlineMigration migrates up to limit rows and reports how many rows it
// found and fixed.
type onlineMigration struct {
	name string
	run  func(ctx context.Context, tx pgx.Tx, opt OnlineOptions, limit int) (found, done int, err error)
}

// onlineMigrations are upstream's, in upstream's order (spec 09 §5.3).
var onlineMigrations = []onlineMigration{
	{"set_root_provider_ids", setRootProviderIDs},
	{"create_incomplete_consumers", createIncompleteConsumers},
}

// OnlineDataMigrations runs upstream's online data migrations the way
// "placement-manage db online_data_migrations" does: with MaxCount 0 it
// repeats batches until a batch migrates nothing; otherwise it runs one
// batch of at most MaxCount rows across all migrations. Each migration batch
// commits in its own transaction. A failing migration is reported on Log and
// skipped (failed = true) so that the others can still run; ran is the
// number of rows migrated by the last batch. err is set only when the
// database cannot be reached.
func OnlineDataMigrations(ctx context.Context, dsn string, opt OnlineOptions) (results []OnlineResult, ran int, failed bool, err error) {
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, 0, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	limited := opt.MaxCount > 0
	batch := opt.MaxCount
	if !limited {
		batch = DefaultOnlineBatchSize
		fmt.Fprintf(opt.Log, "Running batches of %d until complete\n", batch)
	}
	totals := make([]OnlineResult, 0, len(onlineMigrations))
	index := map[string]int{}
	for first := true; first || ran != 0; first = false {
		ran = 0
		for _, om := range onlineMigrations {
			found, done, err := runOnline(ctx, conn, om, opt, batch-ran)
			if err != nil {
				if ctx.Err() != nil || conn.IsClosed() {
					return nil, 0, false, fmt.Errorf("%s: %w", om.name, err)
				}
				fmt.Fprintf(opt.Log, "Error attempting to run %s: %v\n", om.name, err)
				failed = true
			} else if found > 0 {
				fmt.Fprintf(opt.Log, "%d rows matched query %s, %d migrated\n", found, om.name, done)
			}
			i, ok := index[om.name]
			if !ok {
				i = len(totals)
				index[om.name] = i
				totals = append(totals, OnlineResult{Name: om.name})
			}
			totals[i].Found += found
			totals[i].Done += done
			ran += done
			if ran >= batch {
				break
			}
		}
		if limited {
			break
		}
	}
	return totals, ran, failed, nil
}

func runOnline(ctx context.Context, conn *pgx.Conn, om onlineMigration, opt OnlineOptions, limit int) (found, done int, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var err error
		found, done, err = om.run(ctx, tx, opt, limit)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return found, done, nil
}

// setRootProviderIDsSQL makes providers without a root their own root, as
// upstream's set_root_provider_ids; updated_at is set like every UPDATE.
const setRootProviderIDsSQL = `
UPDATE resource_providers SET root_provider_id = id, updated_at = $2
WHERE id IN (SELECT id FROM resource_providers WHERE root_provider_id IS NULL ORDER BY id LIMIT $1)`

func setRootProviderIDs(ctx context.Context, tx pgx.Tx, _ OnlineOptions, limit int) (int, int, error) {
	tag, err := tx.Exec(ctx, setRootProviderIDsSQL, limit, now())
	if err != nil {
		return 0, 0, err
	}
	n := int(tag.RowsAffected())
	return n, n, nil
}

const (
	// Insert only when absent so that the sequence is not consumed by the
	// conflict check on every run.
	ensureProjectSQL = `
INSERT INTO projects (external_id, created_at)
SELECT $1::text, $2::timestamp WHERE NOT EXISTS (SELECT 1 FROM projects WHERE external_id = $1::text)
ON CONFLICT ON CONSTRAINT uniq_projects0external_id DO NOTHING`
	projectIDSQL  = `SELECT id FROM projects WHERE external_id = $1`
	ensureUserSQL = `
INSERT INTO users (external_id, created_at)
SELECT $1::text, $2::timestamp WHERE NOT EXISTS (SELECT 1 FROM users WHERE external_id = $1::text)
ON CONFLICT ON CONSTRAINT uniq_users0external_id DO NOTHING`
	userIDSQL = `SELECT id FROM users WHERE external_id = $1`

	anyMissingConsumerSQL = `
SELECT EXISTS (SELECT 1 FROM allocations a LEFT JOIN consumers c ON c.uuid = a.consumer_id WHERE c.id IS NULL)`

	// One consumer per distinct orphaned consumer_id: a consumer usually has
	// several allocation rows (upstream groups for the same reason).
	createIncompleteConsumersSQL = `
INSERT INTO consumers (uuid, project_id, user_id, created_at)
SELECT a.consumer_id, $2::integer, $3::integer, $4::timestamp
FROM allocations a
LEFT JOIN consumers c ON c.uuid = a.consumer_id
WHERE c.id IS NULL
GROUP BY a.consumer_id
ORDER BY a.consumer_id
LIMIT $1`
)

// createIncompleteConsumers creates consumer rows, owned by the incomplete
// project and user, for allocations whose consumer has none, as upstream's
// create_incomplete_consumers. Unlike upstream it creates the incomplete
// project and user rows only when there is something to migrate.
func createIncompleteConsumers(ctx context.Context, tx pgx.Tx, opt OnlineOptions, limit int) (int, int, error) {
	var missing bool
	if err := tx.QueryRow(ctx, anyMissingConsumerSQL).Scan(&missing); err != nil || !missing {
		return 0, 0, err
	}
	if opt.IncompleteProjectID == "" || opt.IncompleteUserID == "" {
		return 0, 0, errors.New("incomplete consumer project and user ids are not configured")
	}
	t := now()
	projectID, err := ensureExternal(ctx, tx, ensureProjectSQL, projectIDSQL, opt.IncompleteProjectID, t)
	if err != nil {
		return 0, 0, fmt.Errorf("incomplete consumer project: %w", err)
	}
	userID, err := ensureExternal(ctx, tx, ensureUserSQL, userIDSQL, opt.IncompleteUserID, t)
	if err != nil {
		return 0, 0, fmt.Errorf("incomplete consumer user: %w", err)
	}
	tag, err := tx.Exec(ctx, createIncompleteConsumersSQL, limit, projectID, userID, t)
	if err != nil {
		return 0, 0, err
	}
	n := int(tag.RowsAffected())
	return n, n, nil
}

func ensureExternal(ctx context.Context, tx pgx.Tx, insertSQL, selectSQL, externalID string, t time.Time) (int32, error) {
	if _, err := tx.Exec(ctx, insertSQL, externalID, t); err != nil {
		return 0, err
	}
	var id int32
	err := tx.QueryRow(ctx, selectSQL, externalID).Scan(&id)
	return id, err
}

// now is the timestamp the application stores: UTC, as a naive timestamp
// (pgx writes the wall clock of a time.Time into timestamp columns).
func now() time.Time { return time.Now().UTC() }
