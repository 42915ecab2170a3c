package libpq_test

import (
	"net"
	"syscall"
	"testing"
)

// checkSocket compares the TCP options of conn's socket with want (by
// name); a connection over a Unix socket is skipped.
func checkSocket(t *testing.T, conn net.Conn, want map[string]int) {
	t.Helper()
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		t.Skipf("not a TCP connection (%T)", conn)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	options := map[string]int{"TCP_KEEPIDLE": syscall.TCP_KEEPIDLE, "TCP_KEEPINTVL": syscall.TCP_KEEPINTVL,
		"TCP_KEEPCNT": syscall.TCP_KEEPCNT, "TCP_USER_TIMEOUT": 18}
	for name, w := range want {
		var got int
		var gerr error
		if err := raw.Control(func(fd uintptr) {
			got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, options[name])
		}); err != nil || gerr != nil {
			t.Fatalf("getsockopt %s: %v %v", name, err, gerr)
		}
		if got != w {
			t.Errorf("%s = %d, want %d", name, got, w)
		}
	}
}
