package store

import (
	"maps"
	"slices"
	"time"
)

// Test hooks for cache_test.go: they change the published candidate
// cache's view.

// CacheReadFromServerStartedForTest makes the view look read from a
// server started at start, as it does after a failover.
func (s *Store) CacheReadFromServerStartedForTest(start time.Time) {
	view := *s.candidates.cur.Load()
	view.origin.started = start
	s.candidates.cur.Store(&view)
}

// CacheAgedForTest makes the view look refreshed d ago by this process's
// clock (not by the database's).
func (s *Store) CacheAgedForTest(d time.Duration) {
	view := *s.candidates.cur.Load()
	view.began = view.began.Add(-d)
	s.candidates.cur.Store(&view)
}

// CacheHorizonForTest sets how long the change log is taken to keep its
// rows (changeHorizon), so that tests need not wait 15 minutes.
func (s *Store) CacheHorizonForTest(d time.Duration) { s.candidates.horizon = d }

// CacheFullLoadsForTest is the number of times the cache loaded every
// provider.
func (s *Store) CacheFullLoadsForTest() int64 { return s.candidates.fullLoads.Load() }

// CacheDuplicateProviderForTest puts a copy of the first provider of the
// cache's lowest tree into its second, as a bug in a refresh might.
func (s *Store) CacheDuplicateProviderForTest() {
	c := s.candidates
	roots := slices.Sorted(maps.Keys(c.trees))
	c.trees[roots[1]] = append(c.trees[roots[1]], c.trees[roots[0]][0])
}
