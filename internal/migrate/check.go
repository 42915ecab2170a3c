package migrate

import (
	"context"
	"fmt"
	"slices"
)

// Names of the upgrade checks, as upstream's placement-status prints them;
// the schema check is ours.
const (
	CheckRootProviderIDs     = "Missing Root Provider IDs"
	CheckIncompleteConsumers = "Incomplete Consumers"
	CheckDatabaseSchema      = "Database Schema"
)

// Details of the data checks, upstream's text.
const (
	missingRootsDetails        = `There is at least one resource provider table record which misses its root provider id. Run the "placement-manage db online_data_migrations" command.`
	incompleteConsumersDetails = `There are %d incomplete consumers table records for existing allocations. Run the "placement-manage db online_data_migrations" command.`
)

const (
	countMissingRootsSQL = `SELECT count(*) FROM resource_providers WHERE root_provider_id IS NULL`

	// Consumers are matched by uuid: allocations.consumer_id holds the
	// consumer's uuid (spec 09 §2.3).
	countMissingConsumersSQL = `
SELECT count(DISTINCT a.consumer_id)
FROM allocations a
LEFT JOIN consumers c ON c.uuid = a.consumer_id
WHERE c.id IS NULL`
)

// CheckCode is the outcome of an upgrade check, with oslo.upgradecheck's
// values, which are also placement-status's exit codes.
type CheckCode int

const (
	CheckSuccess CheckCode = 0
	CheckWarning CheckCode = 1
	CheckFailure CheckCode = 2
)

// String returns "Success", "Warning" or "Failure".
func (c CheckCode) String() string {
	switch c {
	case CheckSuccess:
		return "Success"
	case CheckWarning:
		return "Warning"
	case CheckFailure:
		return "Failure"
	}
	return fmt.Sprintf("CheckCode(%d)", int(c))
}

// CheckResult is the outcome of one upgrade check. Details is "" when there
// is nothing to say (upstream's None).
type CheckResult struct {
	Name    string
	Code    CheckCode
	Details string
}

// Check runs the database checks of "placement-status upgrade check" in
// order: CheckData's, then CheckSchemaResult. err is set only when the
// checks could not run.
func Check(ctx context.Context, dsn string) ([]CheckResult, error) {
	results, err := CheckData(ctx, dsn)
	if err != nil {
		return nil, err
	}
	r, err := CheckSchemaResult(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return append(results, r), nil
}

// CheckData runs upstream's two data checks, with upstream's names,
// severities and details: a provider without root provider id is a
// Failure, allocations whose consumer has no consumers row a Warning. Both
// pass on a database without the tables.
func CheckData(ctx context.Context, dsn string) ([]CheckResult, error) {
	conn, err := connectToRead(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	roots := CheckResult{Name: CheckRootProviderIDs}
	n, err := countIfTable(ctx, conn, "resource_providers", countMissingRootsSQL)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		roots.Code, roots.Details = CheckFailure, missingRootsDetails
	}
	consumers := CheckResult{Name: CheckIncompleteConsumers}
	n, err = countIfTable(ctx, conn, "allocations", countMissingConsumersSQL)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		consumers.Code, consumers.Details = CheckWarning, fmt.Sprintf(incompleteConsumersDetails, n)
	}
	return []CheckResult{roots, consumers}, nil
}

// CheckSchemaResult is our own check of the schema version (CheckSchema):
// Success when current, a Warning when "placement-manage db sync" would
// bring it up (an empty database included), and a Failure when sync would
// refuse it (dirty, newer than this release, unknown revision, no recorded
// version). A warning, not a failure, because deployment tools run the
// check before "db sync" and stop on failures only.
func CheckSchemaResult(ctx context.Context, dsn string) (CheckResult, error) {
	s, err := CheckSchema(ctx, dsn)
	if err != nil {
		return CheckResult{}, err
	}
	r := CheckResult{Name: CheckDatabaseSchema}
	switch s.State {
	case SchemaCurrent:
		r.Details = fmt.Sprintf("up to date (%s)", s)
	case SchemaEmpty, SchemaBehind:
		r.Code, r.Details = CheckWarning, fmt.Sprintf("needs 'placement-manage db sync' (%s; this release needs version %d)", s, s.Latest)
	case SchemaAhead:
		r.Code, r.Details = CheckFailure, fmt.Sprintf("newer than this release knows (%s)", s)
	default:
		r.Code, r.Details = CheckFailure, s.Err().Error()
	}
	return r, nil
}

// legacyProblems returns the legacy data conditions (spec 09 §5.3) that
// block upgrading a database at alembic revision rev: the checks of the
// upstream revisions after rev. Each problem is a short phrase.
func legacyProblems(ctx context.Context, conn querier, rev string) ([]string, error) {
	i := slices.Index(alembicRevisions, rev)
	var problems []string
	for _, c := range []struct{ revision, query, problem string }{
		{RevisionRootProviderIDs, countMissingRootsSQL, "%d resource providers have no root provider id"},
		{RevisionIncompleteConsumers, countMissingConsumersSQL, "%d allocation consumers have no consumers table record"},
	} {
		if i >= slices.Index(alembicRevisions, c.revision) {
			continue
		}
		n, err := count(ctx, conn, c.query)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf(c.problem, n))
		}
	}
	return problems, nil
}

// countIfTable runs a count query, or returns 0 if table does not exist yet.
func countIfTable(ctx context.Context, conn querier, table, sql string) (int64, error) {
	var exists bool
	if err := conn.QueryRow(ctx, tableExistsSQL, table).Scan(&exists); err != nil {
		return 0, fmt.Errorf("inspect database: %w", err)
	}
	if !exists {
		return 0, nil
	}
	return count(ctx, conn, sql)
}

func count(ctx context.Context, conn querier, sql string) (int64, error) {
	var n int64
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		return 0, fmt.Errorf("check legacy data: %w", err)
	}
	return n, nil
}
