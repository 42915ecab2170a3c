package store

import "time"

// CacheReadFromServerStartedForTest makes the published candidate cache
// look as if it had been read from a server started at start, as it does
// after a failover (cache_test.go).
func (s *Store) CacheReadFromServerStartedForTest(start time.Time) {
	view := *s.candidates.cur.Load()
	view.origin.started = start
	s.candidates.cur.Store(&view)
}
