package store

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// The change log: how the candidate cache learns what changed.
//
// The database captures its own changes (migrations/0003_change_capture):
// triggers on every table a candidate snapshot reads (providers and their
// parentage, inventories, allocations, provider traits and aggregates)
// append one placement_changes row per touched provider, in the writer's
// own transaction, whoever the writer is: this service, the Python service
// on the same database, or SQL typed by hand. txid defaults to
// pg_current_xact_id(), the writer's transaction id. A row with a NULL
// provider id (a class, trait or aggregate renamed or deleted, a table
// truncated) invalidates the whole cache. The database also prunes the
// log (placement_changes_prune, with the same horizon as changeHorizon).
//
// candidateCache holds the data of every provider tree and the Snapshot
// built from it, and records the PostgreSQL snapshot S it reflects.
//
// Claim: after a refresh in snapshot S, the cache equals the database as S
// sees it. Proof sketch, by induction over refreshes. A full load reads
// every table in S. Otherwise the cache equals the database in the previous
// refresh's snapshot P. A transaction T changes what S sees of some
// provider only if T is visible to S and invisible to P. Every transaction
// with an id below xmin(P) had ended when P was taken, so a T invisible to
// P has txid >= xmin(P); precisely, it is in progress at P (txid in
// xip(P)) or began later (txid >= xmax(P)), and the refresh selects the
// rows of exactly those transactions (two index lookups on txid).
// T's triggers logged its providers in the same transaction, so its rows
// are visible to S exactly when its other effects are. The refresh first
// reloads, in S, every logged provider alone. A provider joins or leaves
// a tree only through its own row (created, deleted, re-parented; a moved
// subtree logs all its providers), so when each logged provider is one
// the cache has (same uuid; its parent and root as S has them), or a new
// one (an id above all the cache has), or one the cache has and S does
// not (deleted: it leaves its tree), putting their new state in place
// gives every tree as S sees it (engine.Snapshot.Update also checks that
// the trees come out whole). Otherwise (a provider created below the
// highest id) nothing is applied, and a refresh in a new snapshot (call
// it S again) reloads the whole trees of every provider logged since P:
// the tree the cache had it in and the tree S has it in, so no provider
// is left in a stale tree. Providers no such T touched are the same in P
// and S. Re-reading an already applied change is harmless.
//
// The claim also needs one history of the database and its capture.
// A failover to a standby that missed the last commits (asynchronous
// replication), a point-in-time recovery or a crash under
// synchronous_commit = off takes the database back: transactions the
// cache has seen are gone and their ids are handed out again, so
// "invisible to P" no longer says what changed. Each of these starts a new
// server. A table dropped and restored (pg_restore --clean), a database
// recreated, or a trigger disabled and enabled again by hand lets writes
// in without change rows. Each of these writes new trigger rows in
// pg_trigger. The change log truncated by hand loses rows a refresh
// needs; that gives it a new file. So every statement that asks whether
// the cache is current also reads the cache's origin (originSQL): the
// server's start, the log's file, and the capture triggers' row ids and
// versions. A cache read from another
// origin reloads everything; a restart that lost nothing costs one full
// load.
//
// The claim needs the capture: every statement that asks whether the
// cache is current also counts the capture triggers, in the same snapshot.
// When one is missing or disabled the cache is dropped, the problem is
// logged once, and candidates are loaded from the database per request
// (loadCandidateSnapshot) until the triggers are back; the first refresh
// after that is a full load.
//
// Pruning must never delete a row a later refresh needs. The pruner
// deletes rows with txid < X, where X = xmin of a snapshot taken at a
// database time T_X with T_X <= statement_timestamp() - horizon of the
// DELETE (checked in the DELETE itself). Snapshot xmins never decrease
// over time. A reader uses P incrementally only if the clock_timestamp()
// of its own first statement, which is after its snapshot, is less than
// horizon after now() of P's transaction, which is before P. So any DELETE
// visible to the reader committed before its snapshot, hence T_X < time of
// P, X <= xmin(P), and every row the reader selects survived. An older
// cache does a full reload; KeepCandidateCacheYoung renews the cache
// often enough that it need not. This takes the database's clock for real
// time. A step forward is safe: it lengthens the reader's interval as
// much as the pruner's. A step back is not: a mark taken after P could
// look old enough to the pruner while P still looked young to the reader.
// So the reader also requires P to be younger than the horizon by its own
// monotonic clock, read before P's transaction began (cacheView.began).
//
// A published snapshot is never modified: a refresh builds a new one
// (engine.Snapshot.Update shares the unchanged parts) and swaps the
// pointer, so concurrent requests read without locks.

// changeHorizon is how long the database keeps change rows (the interval
// in placement_changes_prune); a cache refreshed longer ago reloads
// everything.
const changeHorizon = 15 * time.Minute

// captureTriggers is the number of placement_capture_* triggers that
// migrations/0003_change_capture.up.sql creates.
const captureTriggers = 29

// errNoCapture says the change capture is missing or disabled: the cache
// cannot be trusted.
var errNoCapture = errors.New("change capture triggers missing or disabled")

// originSQL reads the origin of what the statement sees: the server's
// start, the change log's file (a TRUNCATE gives it a new one) and the
// enabled capture triggers, each as oid:xmin, by oid (a catalog scan of a
// few dozen rows).
const originSQL = `pg_postmaster_start_time(), pg_relation_filenode('placement_changes')::int8,
	ARRAY(SELECT oid::text || ':' || xmin::text FROM pg_trigger
	      WHERE tgname LIKE 'placement\_capture\_%' AND tgenabled IN ('O', 'A') ORDER BY oid)`

// origin is the history a cache view was read from (originSQL).
type origin struct {
	started time.Time
	logFile int64
	capture []string
}

func (o origin) same(p origin) bool {
	return o.started.Equal(p.started) && o.logFile == p.logFile && slices.Equal(o.capture, p.capture)
}

// scan lists where a row's origin columns go.
func (o *origin) scan() []any { return []any{&o.started, &o.logFile, &o.capture} }

// checkSQL is the one query of an unchanged cache: the name checks of the
// request, the origin (which also says whether the capture is in place),
// and whether any transaction invisible to the cache's snapshot logged a
// change, in one statement (one snapshot). The transactions invisible to a snapshot are exactly those
// from its xmax on ($1) and those in progress when it was taken (its xip
// list, $4, usually empty: then checkSQL leaves that test out). Both tests
// are index lookups on txid whatever the plan, so the cost depends neither
// on the size of the change log nor on how far a long transaction
// elsewhere holds xmin back. (max() is an index lookup in any plan;
// "txid >= $x" in a cached generic plan would be a sequential scan. The
// in-progress test asks for max(txid) up to each xip rather than for rows
// equal to it for the same reason: after one transaction logged many rows,
// a bulk load or an import, the statistics say txid has one value, and
// the planner then hashed a sequential scan of the whole log: 10.7 ms
// against 0.1 ms at 60,000 rows.)
const (
	checkSQL = `
SELECT clock_timestamp(), ` + originSQL + `,
	COALESCE((SELECT max(txid) FROM placement_changes) >= $1::text::xid8, false),
	ARRAY(SELECT name FROM resource_classes WHERE name = ANY($2)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($3))`
	checkInProgressSQL = `
SELECT clock_timestamp(), ` + originSQL + `,
	COALESCE((SELECT max(txid) FROM placement_changes) >= $1::text::xid8, false)
	OR EXISTS (SELECT 1 FROM unnest($4::text[]::xid8[]) x(txid)
	           WHERE (SELECT max(c.txid) FROM placement_changes c WHERE c.txid <= x.txid) = x.txid),
	ARRAY(SELECT name FROM resource_classes WHERE name = ANY($2)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($3))`
)

// splitSnapshot returns the xmax and the xip list of a pg_snapshot in its
// text form "xmin:xmax:xip,xip,...".
func splitSnapshot(snap string) (xmax string, xip []string) {
	parts := strings.SplitN(snap, ":", 3)
	if len(parts) != 3 {
		return snap, nil // not a snapshot: the cast in SQL reports it
	}
	if parts[2] != "" {
		xip = strings.Split(parts[2], ",")
	}
	return parts[1], xip
}

// unseenSQL selects the change rows of the transactions invisible to the
// snapshot $1 (text form; NULL selects nothing): those from its xmax on and
// those in progress when it was taken, two index lookups on txid.
const unseenSQL = `
	SELECT resource_provider_id FROM placement_changes WHERE txid >= pg_snapshot_xmax($1::text::pg_snapshot)
	UNION ALL
	SELECT resource_provider_id FROM placement_changes
	WHERE txid = ANY(ARRAY(SELECT pg_snapshot_xip($1::text::pg_snapshot)))`

// refreshSQL starts a refresh transaction: its snapshot, its times, its
// origin (which also says whether the capture is in place), whether a change
// invalidates everything, the providers logged by transactions invisible
// to the previous snapshot ($1; NULL for none: then nothing is selected
// and the caller loads everything), with duplicates (see distinct), and
// which of the classes ($2) and traits ($3) exist.
const refreshSQL = `
WITH unseen AS (` + unseenSQL + `
)
SELECT pg_current_snapshot()::text, now(), clock_timestamp(), ` + originSQL + `,
	COALESCE((SELECT bool_or(resource_provider_id IS NULL) FROM unseen), false),
	ARRAY(SELECT resource_provider_id FROM unseen WHERE resource_provider_id IS NOT NULL),
	ARRAY(SELECT name FROM resource_classes WHERE name = ANY($2)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($3))`

// distinct sorts ids and drops the duplicates. The refresh query leaves
// them in: under a generic plan PostgreSQL would size a hash table for a
// third of the change log to drop them.
func distinct(ids []int32) []int32 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
