package migrate

import "time"

// SetLockWaits shortens Sync's lock waits (locks.go) for a test and
// returns what restores them.
func SetLockWaits(timeout, pause, total time.Duration) (restore func()) {
	t, p, w := ddlLockTimeout, ddlRetryPause, ddlLockWait
	ddlLockTimeout, ddlRetryPause, ddlLockWait = timeout, pause, total
	return func() { ddlLockTimeout, ddlRetryPause, ddlLockWait = t, p, w }
}
