//go:build !linux

package libpq_test

import (
	"net"
	"testing"
)

func checkSocket(t *testing.T, _ net.Conn, _ map[string]int) {
	t.Skip("socket options are checked on Linux only")
}
