package gabbits

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestStalledDatabase puts the service behind a proxy that stops answering
// without closing anything, as a partitioned or frozen database does: each
// request then gets the pool_timeout 503 within that timeout, and a
// candidates request is not told it asked for too much, and the service
// answers again once the database does.
func TestStalledDatabase(t *testing.T) {
	proxy, dsn := testutil.ProxyDSN(t, testdb.New(t))
	const poolTimeout = 500 * time.Millisecond
	srv := testserver.Start(t, dsn, testserver.Options{
		Store: func(s *store.Store) { s.SetPoolTimeout(poolTimeout) },
		API:   func(o *api.Options) { o.Placement.AllocationCandidatesTimeout = time.Minute },
	})
	c := testserver.Client{T: t}
	rp := uuid.NewString()
	must := func(want int, method, path string, body any) {
		t.Helper()
		if st, out := c.Call("latest", method, srv.URL+path, body); st != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, st, out, want)
		}
	}
	must(200, "POST", "/resource_providers", map[string]any{"name": rp, "uuid": rp})
	must(200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]int{"total": 8}}})
	paths := []string{"/allocation_candidates?resources=VCPU:1", "/resource_providers/" + rp, "/traits"}
	for _, p := range paths {
		must(200, "GET", p, nil)
	}
	// The pool checks a connection idle for more than a second with a round
	// trip before it hands it out; a younger one would carry the request's
	// own statement into the silence, which only the client's patience or
	// the kernel (tcp_user_timeout, keepalives) ends.
	time.Sleep(1100 * time.Millisecond)

	proxy.Stall()
	for _, p := range paths {
		start := time.Now()
		st, out := c.CallJSON("latest", "GET", srv.URL+p, nil)
		took := time.Since(start)
		detail := testserver.FirstDetail(out)
		if st != 503 || !strings.Contains(detail, store.MsgPoolTimeout) {
			t.Errorf("GET %s on a silent database = %d %q, want 503 with %q", p, st, detail, store.MsgPoolTimeout)
		}
		if took > poolTimeout+2*time.Second {
			t.Errorf("GET %s took %v, want about pool_timeout (%v)", p, took, poolTimeout)
		}
	}
	proxy.Resume()
	// The service answers again by itself; under a loaded machine the
	// first new connections may take longer than the short pool_timeout.
	for _, p := range paths {
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, out := c.Call("latest", "GET", srv.URL+p, nil)
			if st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s = %d %s 10 s after the database answers again, want 200", p, st, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
