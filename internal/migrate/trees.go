package migrate

import (
	"context"
	"errors"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TreeProblem is a provider whose stored root_provider_id disagrees with
// its parentage: the root is the ancestor without a parent.
type TreeProblem struct {
	UUID       string
	StoredRoot string // uuid of the provider stored as its root ("" for none)
	Root       string // uuid of its root by parentage; "" inside a parent loop
}

// treeProblemsSQL lists the providers whose stored root is not the one
// their parentage gives. The walk starts at the providers without a
// parent, so it ends; a provider it never reaches is in a parent loop.
const treeProblemsSQL = `
WITH RECURSIVE tree(id, root) AS (
	SELECT id, id FROM resource_providers WHERE parent_provider_id IS NULL
	UNION ALL
	SELECT rp.id, t.root FROM resource_providers rp JOIN tree t ON rp.parent_provider_id = t.id
)
SELECT rp.uuid, coalesce(stored.uuid, ''), coalesce(root.uuid, ''), t.root
FROM resource_providers rp
LEFT JOIN tree t ON t.id = rp.id
LEFT JOIN resource_providers stored ON stored.id = rp.root_provider_id
LEFT JOIN resource_providers root ON root.id = t.root
WHERE t.root IS DISTINCT FROM rp.root_provider_id
ORDER BY rp.id`

const repairRootSQL = `UPDATE resource_providers SET root_provider_id = $2, updated_at = $3 WHERE uuid = $1`

// treeRepairAttempts bounds the runs of a repair that a concurrent
// provider write keeps invalidating.
const treeRepairAttempts = 5

// CheckTrees returns the providers whose stored root disagrees with their
// parentage. With repair it also gives each provider outside a parent
// loop the root of its parentage, in one transaction that a concurrent
// provider write makes it run again; providers in a loop are left, and
// still returned. A running service notices the repair like any other
// write (its change capture logs it).
//
// The Python service (8.0.0 and earlier) moves providers without locking
// their trees, so two concurrent moves can leave such providers behind;
// this service itself never does.
func CheckTrees(ctx context.Context, dsn string, repair bool) ([]TreeProblem, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for attempt := 1; ; attempt++ {
		var problems []TreeProblem
		err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			var err error
			problems, err = treeProblems(ctx, tx, repair)
			return err
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgerrcode.SerializationFailure && attempt < treeRepairAttempts {
			continue
		}
		return problems, err
	}
}

func treeProblems(ctx context.Context, tx pgx.Tx, repair bool) ([]TreeProblem, error) {
	type row struct {
		TreeProblem
		rootID *int64
	}
	rows, err := tx.Query(ctx, treeProblemsSQL)
	if err != nil {
		return nil, err
	}
	var found []row
	var r row
	if _, err := pgx.ForEachRow(rows, []any{&r.UUID, &r.StoredRoot, &r.Root, &r.rootID}, func() error {
		found = append(found, r)
		return nil
	}); err != nil {
		return nil, err
	}
	problems := make([]TreeProblem, 0, len(found))
	for _, r := range found {
		problems = append(problems, r.TreeProblem)
		if repair && r.rootID != nil {
			if _, err := tx.Exec(ctx, repairRootSQL, r.UUID, *r.rootID, now()); err != nil {
				return nil, err
			}
		}
	}
	return problems, nil
}
