package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Shared change checks. Every candidates request must see each write
// committed before it arrived, so it needs a check of the change log that
// starts after its arrival. Concurrent requests share one: a request joins
// the next round that has not started yet, and one round runs at a time,
// so a round serves every request that arrived while the previous one was
// in flight. Under load that is one query per round trip instead of one
// per request; alone, a request starts its round at once. A round that
// finds changes also applies them (advance), in the same round trip when
// writes keep coming.

// checkRound is one shared change check and its result.
type checkRound struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the result is set

	// Guarded by candidateCache.mu.
	classes, traits []string // the names the members ask about
	members         int      // requests still waiting for the result

	// The result.
	view                      *cacheView // the view checked
	current                   bool       // view reflects every commit before the round began
	foundClasses, foundTraits []string   // the names that exist
	err                       error
}

// joinCheck waits for a change check that starts after the call, sharing
// it with concurrent callers; the result must not be modified.
func (c *candidateCache) joinCheck(ctx context.Context, s *Store, classes, traits []string) (*checkRound, error) {
	c.checkMu.Lock()
	r := c.pending
	if r == nil {
		r = &checkRound{done: make(chan struct{})}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		c.pending = r
	}
	r.members++
	r.classes = appendNew(r.classes, classes)
	r.traits = appendNew(r.traits, traits)
	if !c.checking {
		c.checking = true
		c.pending = nil
		go c.runChecks(s, r)
	}
	c.checkMu.Unlock()

	select {
	case <-r.done:
		return r, r.err
	case <-ctx.Done():
		c.checkMu.Lock()
		r.members--
		// A running round nobody waits for any more stops. A pending one
		// stays usable: a later request may still join it (runChecks skips
		// it if none does).
		if r.members == 0 && c.pending != r {
			r.cancel()
		}
		c.checkMu.Unlock()
		return nil, ctx.Err()
	}
}

// runChecks runs r, then the rounds that gathered meanwhile, until none
// is pending.
func (c *candidateCache) runChecks(s *Store, r *checkRound) {
	for r != nil {
		c.checkMu.Lock()
		// The names are final once the round has left pending.
		classes, traits, waiting := r.classes, r.traits, r.members > 0
		c.checkMu.Unlock()
		if waiting {
			c.runCheck(s, r, classes, traits)
		} else {
			r.err = context.Canceled
		}
		r.cancel()
		close(r.done)

		c.checkMu.Lock()
		r = c.pending
		c.pending = nil
		if r == nil {
			c.checking = false
		}
		c.checkMu.Unlock()
	}
}

// runCheck runs one round against the published view and sets its result
// (but does not close done). After a round that found changes, or once
// the view is keepYoung old, it goes straight to advance, which reads the
// change log and loads the providers the changes touched in one round
// trip, and takes a new snapshot even when nothing changed; otherwise it
// first asks the cheaper question whether anything changed at all, and
// advances only if so.
func (c *candidateCache) runCheck(s *Store, r *checkRound, classes, traits []string) {
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("candidate cache check: %v", p)
		}
	}()
	if cur := c.cur.Load(); cur != nil && !c.changing.Load() && time.Since(cur.began) < c.keepYoung() {
		r.view = cur
		if r.current, r.err = c.unchanged(r.ctx, s, cur, r, classes, traits); r.current || r.err != nil {
			return
		}
	}
	select {
	case c.refreshing <- struct{}{}:
	case <-r.ctx.Done():
		r.err = r.ctx.Err()
		return
	}
	defer func() { <-c.refreshing }()
	cur := c.cur.Load()
	if cur == nil { // dropped since the members joined: they refresh
		r.view, r.current = nil, false
		r.err = s.db.QueryRow(r.ctx, namesSQL, classes, traits).Scan(&r.foundClasses, &r.foundTraits)
		return
	}
	// The round only reads: one whose connection broke, or that clashed
	// with a transaction pooler, runs again, as pooled runs a SELECT again.
	for attempt := 0; ; attempt++ {
		r.err = c.advance(r.ctx, s, cur, r, classes, traits)
		if r.err == nil || !rerun(r.ctx, attempt, r.err, rerunnable) {
			return
		}
	}
}

// unchanged reports whether view reflects every commit before the call:
// the origin is the one view was read from, no transaction view could not
// see logged a change, and view is young (see young).
// It also looks the round's names up.
func (c *candidateCache) unchanged(ctx context.Context, s *Store, view *cacheView, r *checkRound, classes, traits []string) (bool, error) {
	var clock time.Time
	var o origin
	var changed bool
	scan := append(append([]any{&clock}, o.scan()...), &changed, &r.foundClasses, &r.foundTraits)
	var err error
	if xmax, xip := splitSnapshot(view.pgSnap); len(xip) == 0 {
		err = s.db.QueryRow(ctx, checkSQL, xmax, classes, traits).Scan(scan...)
	} else {
		err = s.db.QueryRow(ctx, checkInProgressSQL, xmax, classes, traits, xip).Scan(scan...)
	}
	if err != nil {
		return false, err
	}
	if !c.captureOK(s, o) {
		return false, errNoCapture
	}
	return !changed && o.same(view.origin) && c.young(view, clock), nil
}

// advance takes a new snapshot and brings the cache from cur to it in one
// round trip: the refresh query (which also looks the round's names up)
// and the loads of the logged providers, each alone, in one read-only
// transaction. That is the whole refresh unless a change needs more: one
// that invalidates everything, too many of them, or a provider created
// out of id order, whose trees must be reloaded (updateProviders).
// Then the round is not current and its members refresh the long way
// (refreshed). The caller holds the refreshing token.
func (c *candidateCache) advance(ctx context.Context, s *Store, cur *cacheView, r *checkRound, classes, traits []string) error {
	began := time.Now()
	lost := c.lost.Load()
	var b pgx.Batch
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(genericNestedLoops)
	b.Queue(refreshSQL, cur.pgSnap, classes, traits)
	queueLoads(&b, &treeSelection{since: cur.pgSnap, alone: true})
	b.Queue("COMMIT")
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	br := conn.SendBatch(ctx, &b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	var rr refreshRow
	if err := rr.scan(br.QueryRow()); err != nil {
		return err
	}
	r.foundClasses, r.foundTraits = rr.foundClasses, rr.foundTraits
	data, err := readLoads(br)
	if err != nil {
		return err
	}
	if _, err := br.Exec(); err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	c.changing.Store(len(rr.changed) > 0)
	if !c.captureOK(s, rr.origin) {
		return errNoCapture
	}
	if c.needsFullLoad(cur, &rr) {
		return nil
	}
	snap := cur.snap
	if len(rr.changed) > 0 {
		var ok bool
		if snap, ok = c.updateProviders(cur.snap, rr.changed, data); !ok {
			return nil
		}
	}
	r.view, r.current = c.publish(&rr, snap, began, lost), true
	return nil
}

// found returns the names among want that the round found to exist.
func found(want, exist []string) []string {
	var out []string
	for _, n := range want {
		if slices.Contains(exist, n) {
			out = append(out, n)
		}
	}
	return out
}

// appendNew appends the names of add that list does not hold yet.
func appendNew(list, add []string) []string {
	for _, n := range add {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}
