package gabbits

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// TestConcurrentClaims races allocation claims through two service
// instances (two pools, two servers) on one database: exactly the claims
// that fit succeed, every other one is a 409, and the final usage is the
// sum of the successful claims — no over-allocation and no lost write.
func TestConcurrentClaims(t *testing.T) {
	dsn := testdb.New(t)
	servers := []*httptest.Server{testserver.Start(t, dsn, testserver.Options{}), testserver.Start(t, dsn, testserver.Options{})}
	client := testserver.Client{T: t, HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	call := func(base, method, path string, body any) (int, []byte) {
		t.Helper()
		return client.Call("1.28", method, base+path, body)
	}

	const (
		providers = 4
		capacity  = 10 // VCPU per provider
		claims    = 240
	)
	project := uuid.NewString()
	rps := make([]string, providers)
	for i := range rps {
		rps[i] = uuid.NewString()
		if st, body := call(servers[0].URL, "POST", "/resource_providers", map[string]any{"name": rps[i], "uuid": rps[i]}); st != 201 && st != 200 {
			t.Fatalf("create provider: %d %s", st, body)
		}
		inv := map[string]any{"resource_provider_generation": 0,
			"inventories": map[string]any{"VCPU": map[string]any{"total": capacity}}}
		if st, body := call(servers[1].URL, "PUT", "/resource_providers/"+rps[i]+"/inventories", inv); st != 200 {
			t.Fatalf("set inventory: %d %s", st, body)
		}
	}

	type result struct {
		rp     int
		status int
		body   []byte
	}
	results := make([]result, claims)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rp := i % providers
			body := map[string]any{
				"allocations":         map[string]any{rps[rp]: map[string]any{"resources": map[string]int{"VCPU": 1}}},
				"project_id":          project,
				"user_id":             "u",
				"consumer_generation": nil,
			}
			st, out := call(servers[i%2].URL, "PUT", "/allocations/"+uuid.NewString(), body)
			results[i] = result{rp: rp, status: st, body: out}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d claims in %v", claims, time.Since(began))

	succeeded := make([]int, providers)
	for _, r := range results {
		switch r.status {
		case 204:
			succeeded[r.rp]++
		case 409:
			if !bytes.Contains(r.body, []byte("would exceed the capacity")) {
				t.Logf("409: %s", r.body)
			}
		default:
			t.Errorf("claim answered %d: %s", r.status, r.body)
		}
	}
	total := 0
	for i, n := range succeeded {
		total += n
		if n != capacity {
			t.Errorf("provider %d: %d claims succeeded, want exactly %d", i, n, capacity)
		}
	}
	if total != providers*capacity {
		t.Errorf("%d claims succeeded, want %d", total, providers*capacity)
	}

	for i, rp := range rps {
		st, body := call(servers[i%2].URL, "GET", "/resource_providers/"+rp+"/allocations", nil)
		var got struct {
			Allocations map[string]struct {
				Resources map[string]int `json:"resources"`
			} `json:"allocations"`
			Generation int `json:"resource_provider_generation"`
		}
		if err := json.Unmarshal(body, &got); st != 200 || err != nil {
			t.Fatalf("provider allocations: %d %s", st, body)
		}
		used := 0
		for _, a := range got.Allocations {
			used += a.Resources["VCPU"]
		}
		if used != succeeded[i] || len(got.Allocations) != succeeded[i] {
			t.Errorf("provider %d: usage %d by %d consumers, want %d", i, used, len(got.Allocations), succeeded[i])
		}
		// One bump for the inventory, one per successful claim.
		if got.Generation != 1+succeeded[i] {
			t.Errorf("provider %d: generation %d, want %d", i, got.Generation, 1+succeeded[i])
		}
	}
	st, body := call(servers[0].URL, "GET", fmt.Sprintf("/usages?project_id=%s", project), nil)
	want := fmt.Sprintf(`{"usages":{"VCPU":%d}}`, total)
	if st != 200 || string(body) != want {
		t.Errorf("GET /usages = %d %s, want %s", st, body, want)
	}
}
