package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgerrcode.UniqueViolation
}

// TestPipeTx checks the transaction of withTx: BEGIN travels with the first
// statement whatever its kind, a batch after commitWithNextBatch commits,
// a failure in that batch commits nothing, and the connection is usable
// (and outside any transaction) afterwards.
func TestPipeTx(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t, 1) // one connection: reuse is certain
	s := store.New(pool)
	if _, err := pool.Exec(ctx, `CREATE TABLE pipe_test (n integer PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pipe_test`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	inTx := func(tx pgx.Tx) bool { return tx.Conn().PgConn().TxStatus() == 'T' }

	for name, first := range map[string]func(tx pgx.Tx) error{
		"Exec": func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `INSERT INTO pipe_test VALUES (1)`); return err },
		"Query": func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `INSERT INTO pipe_test VALUES (1) RETURNING n`)
			if err != nil {
				return err
			}
			_, err = pgx.CollectRows(rows, pgx.RowTo[int])
			return err
		},
		"QueryRow": func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, `INSERT INTO pipe_test VALUES (1) RETURNING n`).Scan(&n)
		},
		"SendBatch": func(tx pgx.Tx) error {
			var b pgx.Batch
			b.Queue(`INSERT INTO pipe_test VALUES (1)`)
			return tx.SendBatch(ctx, &b).Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := pool.Exec(ctx, `DELETE FROM pipe_test`); err != nil {
				t.Fatal(err)
			}
			// The first statement opens the transaction; a failure then
			// rolls everything back.
			errBoom := errors.New("boom")
			err := store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
				if err := first(tx); err != nil {
					return err
				}
				if !inTx(tx) {
					t.Error("first statement did not open a transaction")
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) || count() != 0 {
				t.Fatalf("rolled back write: err %v, %d rows", err, count())
			}
			// A commit with the last batch.
			err = store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
				if err := first(tx); err != nil {
					return err
				}
				var b pgx.Batch
				b.Queue(`INSERT INTO pipe_test VALUES (2)`)
				store.CommitWithNextBatchForTest(tx)
				return tx.SendBatch(ctx, &b).Close()
			})
			if err != nil || count() != 2 {
				t.Fatalf("committed write: err %v, %d rows", err, count())
			}
			// A failing statement in the committing batch: nothing is kept.
			err = store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO pipe_test VALUES (3)`); err != nil {
					return err
				}
				var b pgx.Batch
				b.Queue(`INSERT INTO pipe_test VALUES (1)`) // duplicate key
				store.CommitWithNextBatchForTest(tx)
				return tx.SendBatch(ctx, &b).Close()
			})
			if !isUniqueViolation(err) || count() != 2 {
				t.Fatalf("failed commit batch: err %v, %d rows", err, count())
			}
			if st := pool.Stat(); st.TotalConns() != 1 {
				t.Errorf("%d connections: one was dropped instead of reused", st.TotalConns())
			}
		})
	}

	// A transaction that runs nothing sends nothing and succeeds.
	if err := store.WithTxForTest(s, ctx, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestPipeTx_LostBeforeCommitRan checks that a transaction whose
// connection broke while its committing batch ran, before the COMMIT did,
// runs again: withTx learns from another connection that it was aborted.
// The backend terminates itself in that batch, in the first run only.
func TestPipeTx_LostBeforeCommitRan(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t, 2)
	s := store.New(pool)
	if _, err := pool.Exec(ctx, `CREATE TABLE pipe_lost (n integer PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
		runs++
		if _, err := tx.Exec(ctx, `INSERT INTO pipe_lost VALUES ($1)`, runs); err != nil {
			return err
		}
		var b pgx.Batch
		if runs == 1 {
			b.Queue(`SELECT pg_terminate_backend(pg_backend_pid())`)
		} else {
			b.Queue(`SELECT 1`)
		}
		store.CommitWithNextBatchForTest(tx)
		return tx.SendBatch(ctx, &b).Close()
	})
	var rows []int32
	if qerr := pool.QueryRow(ctx, `SELECT array_agg(n ORDER BY n) FROM pipe_lost`).Scan(&rows); err != nil || qerr != nil || runs != 2 || len(rows) != 1 || rows[0] != 2 {
		t.Fatalf("err %v, %d runs, rows %v (%v); want success in the second run, with its row only", err, runs, rows, qerr)
	}
}

// TestPipeTx_LostCommitAcknowledgement loses the answer to COMMIT (and the
// connection) after the server ran it. The transaction must not run again
// (a write run twice would fail its own generation checks and report a
// conflict for a change it made). withTx learns from another connection
// that it committed: success if fn had returned or committed with a batch
// whose results it did not read, but the database unavailable (the
// outcome unknown to the client) if it read results of that batch.
func TestPipeTx_LostCommitAcknowledgement(t *testing.T) {
	ctx := context.Background()
	proxy, dsn := testutil.ProxyDSN(t, testdb.New(t))
	pool := testdb.PoolOn(t, dsn, 2)
	s := store.New(pool)
	if _, err := pool.Exec(ctx, `CREATE TABLE pipe_ack (n integer PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name   string
		commit func(ctx context.Context, tx pgx.Tx) error // after the INSERT
		ok     bool
	}{
		{"COMMIT after fn", func(context.Context, pgx.Tx) error { return nil }, true},
		{"COMMIT with writes", func(ctx context.Context, tx pgx.Tx) error {
			var b pgx.Batch
			b.Queue(`UPDATE pipe_ack SET n = n`)
			store.CommitWithNextBatchForTest(tx)
			return tx.SendBatch(ctx, &b).Close()
		}, true},
		{"COMMIT with a read", func(ctx context.Context, tx pgx.Tx) error {
			var b pgx.Batch
			var n int
			b.Queue(`SELECT count(*) FROM pipe_ack`).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
			store.CommitWithNextBatchForTest(tx)
			return tx.SendBatch(ctx, &b).Close()
		}, false},
		{"COMMIT with a result taken from the batch", func(ctx context.Context, tx pgx.Tx) error {
			var b pgx.Batch
			b.Queue(`SELECT count(*) FROM pipe_ack`)
			store.CommitWithNextBatchForTest(tx)
			br := tx.SendBatch(ctx, &b)
			var n int
			if err := br.QueryRow().Scan(&n); err != nil {
				br.Close()
				return err
			}
			return br.Close()
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy.CutReply("COMMIT")
			runs := 0
			err := store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
				runs++
				if _, err := tx.Exec(ctx, `INSERT INTO pipe_ack VALUES ($1)`, i); err != nil {
					return err
				}
				return tc.commit(ctx, tx)
			})
			proxy.CutReply("")
			var n int
			if qerr := pool.QueryRow(ctx, `SELECT count(*) FROM pipe_ack WHERE n = $1`, i).Scan(&n); qerr != nil || n != 1 || runs != 1 {
				t.Fatalf("%d runs, %d rows (%v): want one run, committed", runs, n, qerr)
			}
			if tc.ok && err != nil {
				t.Fatalf("error %v, want success: the COMMIT ran", err)
			}
			var pe *placement.Error
			if !tc.ok && (!errors.As(store.Classify(err), &pe) || pe.Kind != placement.Unavailable) {
				t.Fatalf("error %v, want the database unavailable: what fn read is incomplete", err)
			}
		})
	}
}

// TestPipeTx_SessionEndedByTheServer checks that a transaction whose
// session the server ended with a FATAL error of any kind (here
// idle_in_transaction_session_timeout, in the first run only) runs again:
// the session and its transaction are gone, so nothing was committed.
func TestPipeTx_SessionEndedByTheServer(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t, 2)
	s := store.New(pool)
	runs := 0
	err := store.WithTxForTest(s, ctx, func(tx pgx.Tx) error {
		runs++
		if runs == 1 {
			if _, err := tx.Exec(ctx, `SET LOCAL idle_in_transaction_session_timeout = '50ms'`); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond)
		}
		_, err := tx.Exec(ctx, `SELECT 1`)
		return err
	})
	if err != nil || runs != 2 {
		t.Fatalf("err %v after %d runs, want success in the second", err, runs)
	}
}
