package migrate

import (
	"context"
	"fmt"
	"slices"
)

// Names of the upgrade checks, as upstream's placement-status prints them.
const (
	checkRootProviderIDs     = "Missing Root Provider IDs"
	checkIncompleteConsumers = "Incomplete Consumers"
	checkSchema              = "Schema"
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

// Check reports problems an operator must fix before upgrading, like
// upstream's "placement-status upgrade check". Each result reads
// "<check>: <outcome>", where outcome is "Success", "Failure: <details>" or,
// for the schema, a description of its version, e.g.
// "Schema: up to date (version 1, alembic 422ece571366)". ok is false if
// any check failed; a schema that merely needs "db sync" is not a failure.
// err is set only when the checks could not run.
func Check(ctx context.Context, dsn string) (results []string, ok bool, err error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	ok = true
	fail := func(name, details string) {
		results = append(results, name+": Failure: "+details)
		ok = false
	}

	n, err := countIfTable(ctx, conn, "resource_providers", countMissingRootsSQL)
	if err != nil {
		return nil, false, err
	}
	if n > 0 {
		fail(checkRootProviderIDs, fmt.Sprintf("%d resource providers have no root provider id; run 'placement-manage db online_data_migrations' to fix them", n))
	} else {
		results = append(results, checkRootProviderIDs+": Success")
	}

	n, err = countIfTable(ctx, conn, "allocations", countMissingConsumersSQL)
	if err != nil {
		return nil, false, err
	}
	if n > 0 {
		fail(checkIncompleteConsumers, fmt.Sprintf("%d consumers of existing allocations have no consumers table record; run 'placement-manage db online_data_migrations' to create them", n))
	} else {
		results = append(results, checkIncompleteConsumers+": Success")
	}

	st, err := readState(ctx, conn)
	if err != nil {
		return nil, false, err
	}
	switch {
	case st.dirty:
		fail(checkSchema, errDirty(st).Error())
	case st.version > int(LatestVersion):
		fail(checkSchema, fmt.Sprintf("newer than this release knows (%s)", st))
	case st.version == int(LatestVersion):
		results = append(results, fmt.Sprintf("%s: up to date (%s)", checkSchema, st))
	case st.version < 0 && st.alembic != "" && !slices.Contains(alembicRevisions, st.alembic):
		fail(checkSchema, fmt.Sprintf("unknown alembic revision %q (%s)", st.alembic, st))
	default:
		results = append(results, fmt.Sprintf("%s: needs 'placement-manage db sync' (%s)", checkSchema, st))
	}
	return results, ok, nil
}

// legacyProblems returns the legacy data conditions (spec 09 §5.3) that
// block upgrading a database at alembic revision rev: the checks of the
// upstream revisions after rev. Each problem is a short phrase.
func legacyProblems(ctx context.Context, conn querier, rev string) ([]string, error) {
	i := slices.Index(alembicRevisions, rev)
	var problems []string
	if i < slices.Index(alembicRevisions, RevisionRootProviderIDs) {
		n, err := count(ctx, conn, countMissingRootsSQL)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d resource providers have no root provider id", n))
		}
	}
	if i < slices.Index(alembicRevisions, RevisionIncompleteConsumers) {
		n, err := count(ctx, conn, countMissingConsumersSQL)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d allocation consumers have no consumers table record", n))
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
