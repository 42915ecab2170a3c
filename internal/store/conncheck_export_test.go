package store

import "time"

// IdleConnAlive exposes the pool's pre-use check to conncheck_test.go.
var IdleConnAlive = idleConnAlive

// SetReadOnlyRecheck sets how long a read-only session is used, for the
// pools opened afterwards, until the returned function restores it.
func SetReadOnlyRecheck(d time.Duration) (restore func()) {
	old := readOnlyRecheck
	readOnlyRecheck = d
	return func() { readOnlyRecheck = old }
}
