package gabbits

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
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
