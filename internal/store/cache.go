package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/engine"
)

// The in-process candidate cache: one published, immutable view, checked
// against the change log (changes.go) on every request and refreshed from
// it; the tree bookkeeping of a refresh is in trees.go, the SQL that loads
// trees in treeload.go.

// cacheView is one published, immutable state of the cache.
type cacheView struct {
	snap    *engine.Snapshot
	pgSnap  string    // pg_current_snapshot() of the refresh, as text
	txStart time.Time // now() of the refresh transaction (before its snapshot)
	began   time.Time // local clock before the refresh began
	origin  origin    // what it was read from
}

// candidateCache is the in-process cache of candidate snapshot data; see
// the comment at the top of changes.go.
type candidateCache struct {
	cur     atomic.Pointer[cacheView] // the published view; nil before the first load
	horizon time.Duration

	// refreshing holds a token while a refresh runs: it serialises
	// refreshes and guards trees and rootOf. A channel rather than a
	// mutex, so that a request whose client left or whose deadline passed
	// stops waiting for another request's refresh.
	refreshing chan struct{}
	trees      map[int32][]engine.ProviderData // root id -> the tree, ascending id
	rootOf     map[int32]int32                 // provider id -> root id

	// fullLoads counts the loads of every provider.
	fullLoads atomic.Int64

	// lost counts the times the capture was found missing; a refresh
	// that began before the latest publishes nothing.
	lost atomic.Int64
	// broken is whether the capture was last seen missing (for logging
	// each change of state once).
	broken atomic.Bool

	// The shared change checks (cache_check.go): checking is whether a
	// round runs, pending the round that gathers the requests arriving
	// meanwhile; changing is whether the last round that advanced the
	// cache found changes.
	checkMu  sync.Mutex
	checking bool
	pending  *checkRound
	changing atomic.Bool
}

// namesSQL finds which of the classes ($1) and traits ($2) exist.
const namesSQL = `SELECT ARRAY(SELECT name FROM resource_classes WHERE name = ANY($1)),
	ARRAY(SELECT name FROM traits WHERE name = ANY($2))`

func newCandidateCache() *candidateCache {
	return &candidateCache{horizon: changeHorizon, refreshing: make(chan struct{}, 1)}
}

// snapshot returns a candidate snapshot that reflects every transaction
// committed before the call, and the names among classes and traits that
// exist; errNoCapture when the change capture is not in place.
func (c *candidateCache) snapshot(ctx context.Context, s *Store, classes, traits []string) (*engine.Snapshot, []string, []string, error) {
	start := time.Now()
	classes, traits = withoutNUL(classes), withoutNUL(traits)
	var foundClasses, foundTraits []string
	if c.cur.Load() != nil {
		r, err := c.joinCheck(ctx, s, classes, traits)
		if err != nil {
			return nil, nil, nil, err
		}
		foundClasses, foundTraits = found(classes, r.foundClasses), found(traits, r.foundTraits)
		if r.current {
			return r.view.snap, foundClasses, foundTraits, nil
		}
	} else {
		err := s.db.QueryRow(ctx, namesSQL, classes, traits).Scan(&foundClasses, &foundTraits)
		if err != nil {
			return nil, nil, nil, err
		}
	}
	view, err := c.refreshed(ctx, s, start)
	if err != nil {
		return nil, nil, nil, err
	}
	return view.snap, foundClasses, foundTraits, nil
}

// captureOK reports whether o has the full set of capture triggers. When
// it does not, it drops the cache; either way it logs a change of state
// once.
func (c *candidateCache) captureOK(s *Store, o origin) bool {
	captured := len(o.capture)
	if captured == captureTriggers {
		if c.broken.CompareAndSwap(true, false) {
			s.logger().Warn("candidate cache: change capture is back; the cache reloads from the database")
		}
		return true
	}
	c.lost.Add(1)
	c.cur.Store(nil)
	if c.broken.CompareAndSwap(false, true) {
		s.logger().Error("candidate cache: change capture triggers are missing or disabled; allocation candidates are loaded from the database on every request until `placement-manage db sync` restores them",
			"enabled", captured, "expected", captureTriggers)
	}
	return false
}

// refreshed returns a view whose snapshot was taken after start, waiting
// for a concurrent refresh or running one.
func (c *candidateCache) refreshed(ctx context.Context, s *Store, start time.Time) (*cacheView, error) {
	select {
	case c.refreshing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.refreshing }()
	// Another request may have refreshed since this one started: its view
	// then reflects everything committed before this request.
	if cur := c.cur.Load(); cur != nil && cur.began.After(start) {
		return cur, nil
	}
	view, err := c.refresh(ctx, s)
	if errors.Is(err, engine.ErrInconsistent) && c.cur.Load() != nil {
		// The cache's own trees came apart: a bug, never the database's
		// data (whole trees by construction). Rather than fail every
		// request until a restart, start again from the database.
		s.logger().Error("candidate cache: its provider trees are inconsistent; it reloads from the database", "error", err)
		c.cur.Store(nil)
		view, err = c.refresh(ctx, s)
	}
	if err != nil {
		return nil, err
	}
	return view, nil
}

// refresh brings the cache to a new snapshot and returns it; the caller
// holds the refreshing token.
// It takes two round trips: BEGIN with the change query, then the loads
// with COMMIT. (On an error the connection is left inside the
// transaction, and the pool closes rather than reuses it.)
func (c *candidateCache) refresh(ctx context.Context, s *Store) (*cacheView, error) {
	began := time.Now()
	lost := c.lost.Load()
	cur := c.cur.Load()
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var prev *string
	if cur != nil {
		prev = &cur.pgSnap
	}
	var rr refreshRow
	var b pgx.Batch
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	// A custom plan: with the snapshot's xmax known the planner uses the
	// txid index.
	b.Queue(`SET LOCAL plan_cache_mode = force_custom_plan`)
	b.Queue(refreshSQL, prev, nil, nil).QueryRow(rr.scan)
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	if !c.captureOK(s, rr.origin) {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return nil, errNoCapture
	}
	switch {
	case cur == nil || rr.origin.same(cur.origin):
	case !rr.origin.started.Equal(cur.origin.started):
		s.logger().Warn("candidate cache: the database server restarted or failed over; the cache reloads from the database",
			"started", rr.origin.started, "was", cur.origin.started)
	case rr.origin.logFile != cur.origin.logFile:
		s.logger().Warn("candidate cache: the change log was truncated or rewritten; the cache reloads from the database")
	default:
		s.logger().Warn("candidate cache: the change capture triggers were re-created or re-enabled; the cache reloads from the database")
	}
	var snap *engine.Snapshot
	switch {
	case cur == nil || c.needsFullLoad(cur, &rr):
		snap, err = c.loadAll(ctx, conn, "COMMIT")
	case len(rr.changed) > 0:
		snap, err = c.loadChanged(ctx, conn, cur.snap, rr.changed, "COMMIT")
	default:
		snap = cur.snap
		_, err = conn.Exec(ctx, "COMMIT")
	}
	if err != nil {
		return nil, err
	}
	return c.publish(&rr, snap, began, lost), nil
}

// refreshRow is the row of refreshSQL.
type refreshRow struct {
	pgSnap                    string
	txStart, clock            time.Time
	origin                    origin
	invalidateAll             bool
	changed                   []int32 // distinct, ascending
	foundClasses, foundTraits []string
}

func (rr *refreshRow) scan(row pgx.Row) error {
	dest := append([]any{&rr.pgSnap, &rr.txStart, &rr.clock}, rr.origin.scan()...)
	err := row.Scan(append(dest, &rr.invalidateAll, &rr.changed, &rr.foundClasses, &rr.foundTraits)...)
	rr.changed = distinct(rr.changed)
	return err
}

// publish makes the view of snap, taken in rr's transaction (which began
// after began), the cache's, and returns it. It does not publish when a
// request found the capture missing since lost was read: that dropped the
// cache, and publishing would bring back a view that changes made
// meanwhile may have missed. (The answer itself is still sound: its
// snapshot saw the capture in place.) The caller holds the refreshing
// token.
func (c *candidateCache) publish(rr *refreshRow, snap *engine.Snapshot, began time.Time, lost int64) *cacheView {
	view := &cacheView{snap: snap, pgSnap: rr.pgSnap, txStart: rr.txStart, began: began, origin: rr.origin}
	if c.lost.Load() == lost {
		c.cur.Store(view)
	}
	return view
}

// needsFullLoad reports whether a refresh from cur to rr must load
// everything rather than the changed trees: rr was read from another
// origin than cur (see changes.go), a change invalidated every tree, the
// change log may have been pruned past cur's snapshot, or too many
// providers changed for a selection to pay off.
func (c *candidateCache) needsFullLoad(cur *cacheView, rr *refreshRow) bool {
	return !rr.origin.same(cur.origin) || rr.invalidateAll || !c.young(cur, rr.clock) ||
		len(rr.changed) > max(1000, len(c.rootOf)/4)
}

// keepYoung is the age from which a view is renewed even when nothing
// changed: a check round then takes a new snapshot (advance) rather than
// keep the view it checked (unchanged), and KeepCandidateCacheYoung runs a
// round when no request did.
func (c *candidateCache) keepYoung() time.Duration { return c.horizon / 3 }

// KeepCandidateCacheYoung keeps the candidate cache younger than the change
// log's horizon until ctx ends. A cache that grew older (changes.go) makes
// its next request load every provider (1.5 to 5.5 s at 100,000 providers,
// with every other candidates request waiting for it), so any spell of
// that length without candidate requests would end with such a load.
// Whenever the cache has gone keepYoung without a new snapshot, it runs
// one check round, which takes one and applies what changed meanwhile.
func (s *Store) KeepCandidateCacheYoung(ctx context.Context) {
	if !s.CandidateCache {
		return
	}
	c := s.candidates
	t := time.NewTimer(c.keepYoung())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := c.keepYoung()
		if view := c.cur.Load(); view != nil && time.Since(view.began) < wait {
			t.Reset(wait - time.Since(view.began))
			continue
		}
		if _, _, _, err := c.snapshot(ctx, s, nil, nil); err != nil && ctx.Err() == nil && !errors.Is(err, errNoCapture) {
			s.logger().Warn("candidate cache: could not renew it in a spell without candidate requests; the next request will", "error", err)
		}
		t.Reset(wait)
	}
}

// young reports whether view is younger than the change log's horizon, so
// that no row a refresh from it needs has been pruned (changes.go): by
// the database's clock, which read clock, and by this process's own.
func (c *candidateCache) young(view *cacheView, clock time.Time) bool {
	return clock.Sub(view.txStart) < c.horizon && time.Since(view.began) < c.horizon
}
