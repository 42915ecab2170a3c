package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Shared change checks. Every candidates request must see each write
// committed before it arrived, so it needs a check of the change log that
// starts after its arrival. Concurrent requests share one: a request joins
// the next round that has not started yet, and one round runs at a time,
// so a round serves every request that arrived while the previous one was
// in flight. Under load that is one query per round trip instead of one
// per request; alone, a request starts its round at once.

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

// runCheck runs one round's query against the current view and sets its
// result (but does not close done).
func (c *candidateCache) runCheck(s *Store, r *checkRound, classes, traits []string) {
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("candidate cache check: %v", p)
		}
	}()
	r.view = c.cur.Load()
	if r.view == nil { // dropped since the members joined: they refresh
		r.err = s.db.QueryRow(r.ctx, namesSQL, classes, traits).Scan(&r.foundClasses, &r.foundTraits)
		return
	}
	var clock time.Time
	var captured int
	var changed bool
	scan := []any{&clock, &captured, &changed, &r.foundClasses, &r.foundTraits}
	if xmax, xip := splitSnapshot(r.view.pgSnap); len(xip) == 0 {
		r.err = s.db.QueryRow(r.ctx, checkSQL, xmax, classes, traits).Scan(scan...)
	} else {
		r.err = s.db.QueryRow(r.ctx, checkInProgressSQL, xmax, classes, traits, xip).Scan(scan...)
	}
	if r.err == nil && !c.captureOK(s, captured) {
		r.err = errNoCapture
	}
	r.current = !changed && clock.Sub(r.view.txStart) < c.horizon
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
