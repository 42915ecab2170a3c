package store_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestIdleConnAliveAfterSlowWrite checks the pool's pre-use check on a
// connection whose last write was slow: pgconn then started a background
// reader, which, once it has read the whole answer, waits in a read of the
// idle socket holding the descriptor's read lock. The check once waited
// for that lock until the server next sent something (minutes; in the
// soak, every candidate request of the process hung behind the cache's
// refresh lock).
func TestIdleConnAliveAfterSlowWrite(t *testing.T) {
	ctx := context.Background()
	var slow atomic.Bool
	cfg, err := pgx.ParseConfig(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowWriteConn{c.(*net.TCPConn), &slow}, nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	slow.Store(true)
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	slow.Store(false)
	done := make(chan bool, 1)
	go func() {
		alive, _ := store.IdleConnAlive(ctx, conn)
		done <- alive
	}()
	select {
	case alive := <-done:
		if !alive {
			t.Fatal("a healthy connection was reported dead")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pre-use check blocked on an idle connection")
	}
}

// slowWriteConn, while slow is set, returns from a write 30 ms after
// sending it: longer than pgconn waits before it starts its background
// reader, and long enough for the server's answer to arrive and be read
// by it.
type slowWriteConn struct {
	*net.TCPConn
	slow *atomic.Bool
}

func (c slowWriteConn) Write(b []byte) (int, error) {
	n, err := c.TCPConn.Write(b)
	if c.slow.Load() {
		time.Sleep(30 * time.Millisecond)
	}
	return n, err
}
