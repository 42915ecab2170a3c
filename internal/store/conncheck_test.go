package store_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestTerminatedBackendsCostNoRequest terminates every backend of the
// service's pools while their connections sit idle, repeatedly, and checks
// that every request after each termination still succeeds: dead pooled
// connections are replaced before use.
func TestTerminatedBackendsCostNoRequest(t *testing.T) {
	f := newFleet(t)
	a := f.cached[0]
	rp := f.vcpuProvider(a, 1000)
	c := client{t, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	load := func(round int) {
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				consumer := uuid.NewString()
				if st, out := c.call(a, "1.39", "PUT", "/allocations/"+consumer, map[string]any{
					"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 1}}},
					"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}); st != 204 {
					t.Errorf("round %d worker %d: claim = %d %v", round, w, st, out)
				}
				for _, path := range []string{"/resource_providers/" + rp, "/allocations/" + consumer,
					"/allocation_candidates?resources=VCPU:1&limit=1", "/resource_providers/" + rp + "/usages"} {
					if st, out := c.call(a, "1.39", "GET", path, nil); st != 200 {
						t.Errorf("round %d worker %d: GET %s = %d %v", round, w, path, st, out)
					}
				}
			})
		}
		wg.Wait()
	}
	load(0)
	for round := 1; round <= 5; round++ {
		var n int
		err := f.db.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&n)
		if err != nil || n == 0 {
			t.Fatalf("terminate: %d backends, %v", n, err)
		}
		load(round)
	}
}

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
