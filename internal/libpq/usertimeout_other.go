//go:build !linux

package libpq

import (
	"errors"
	"syscall"
	"time"
)

// userTimeoutSupported: only Linux has TCP_USER_TIMEOUT.
const userTimeoutSupported = false

func setUserTimeout(syscall.RawConn, time.Duration) error {
	return errors.New("tcp_user_timeout is supported on Linux only")
}
