package libpq

import (
	"syscall"
	"time"
)

// userTimeoutSupported: Linux has TCP_USER_TIMEOUT.
const userTimeoutSupported = true

// tcpUserTimeout is TCP_USER_TIMEOUT of <linux/tcp.h>, which the syscall
// package does not name.
const tcpUserTimeout = 18

// setUserTimeout sets the socket's TCP_USER_TIMEOUT to d, as libpq does for
// tcp_user_timeout.
func setUserTimeout(c syscall.RawConn, d time.Duration) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(d.Milliseconds()))
	})
	if err != nil {
		return err
	}
	return serr
}
