package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReparentInjecting moves child under parent (1.37 rules) in one
// transaction whose queries first pass through inject: a non-nil error
// from it replaces the query's result.
func ReparentInjecting(ctx context.Context, s *Store, child, parent string, inject func(sql string, args []any) error) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, child)
		if err != nil {
			return err
		}
		u := ProviderUpdate{Name: p.Name, SetParent: true, ParentUUID: &parent, AllowReparent: true}
		return reparent(ctx, injectingTx{tx, inject}, p, u)
	})
}

type injectingTx struct {
	pgx.Tx
	inject func(sql string, args []any) error
}

func (t injectingTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.inject(sql, args); err != nil {
		return nil, err
	}
	return t.Tx.Query(ctx, sql, args...)
}
