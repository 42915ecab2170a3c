package store

import "time"

// SetReadOnlyRecheck sets how long a session that started read-only is
// used, in every pool, until the returned function restores it.
func SetReadOnlyRecheck(d time.Duration) (restore func()) {
	old := readOnlyRecheck
	readOnlyRecheck = d
	return func() { readOnlyRecheck = old }
}
