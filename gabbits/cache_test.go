package gabbits

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testserver"
)

// twoServers starts two service instances with their own candidate caches
// and a per-request loader as the oracle, on one fresh database (see
// newFleet).
func twoServers(t testing.TB) (a, b, oracle *httptest.Server) {
	t.Helper()
	f := newFleet(t)
	return f.cached[0], f.cached[1], f.oracle
}

// benchServer is one server of a fresh fleet and a client for it that
// keeps enough idle connections for a benchmark's concurrent callers.
func benchServer(b *testing.B) (*httptest.Server, client) {
	b.Helper()
	srv, _, _ := twoServers(b)
	return srv, client{b, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
}

// client calls the servers of a test as admin.
type client struct {
	t testing.TB
	c *http.Client
}

func (c client) call(srv *httptest.Server, version, method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	return testserver.Client{T: c.t, HTTP: c.c}.CallJSON(version, method, srv.URL+path, body)
}

// must calls and fails the test unless the status is want.
func (c client) must(srv *httptest.Server, want int, method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.call(srv, "1.39", method, path, body)
	if st != want {
		c.t.Fatalf("%s %s = %d %v, want %d", method, path, st, out, want)
	}
	return out
}

// candidates returns the candidate count and provider summaries of query.
func (c client) candidates(srv *httptest.Server, query string) (int, map[string]any) {
	c.t.Helper()
	out := c.must(srv, 200, "GET", "/allocation_candidates?"+query, nil)
	reqs, _ := out["allocation_requests"].([]any)
	sums, _ := out["provider_summaries"].(map[string]any)
	return len(reqs), sums
}

func used(sums map[string]any, rp, class string) any {
	s, _ := sums[rp].(map[string]any)
	res, _ := s["resources"].(map[string]any)
	r, _ := res[class].(map[string]any)
	return r["used"]
}

// TestCandidateCache_WritesThroughOtherInstance checks that every kind of
// write made through instance A is seen by the very next candidates
// request through instance B, whose cache was warm before the write.
func TestCandidateCache_WritesThroughOtherInstance(t *testing.T) {
	a, b, _ := twoServers(t)
	c := client{t, &http.Client{}}
	ctx := func(query string) (int, map[string]any) { return c.candidates(b, query) }

	if n, _ := ctx("resources=VCPU:1"); n != 0 {
		t.Fatalf("empty database: %d candidates", n)
	}
	root := uuid.NewString()
	c.must(a, 200, "POST", "/resource_providers", map[string]any{"name": root, "uuid": root})
	c.must(a, 200, "PUT", "/resource_providers/"+root+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4}}})
	n, sums := ctx("resources=VCPU:1")
	if n != 1 || used(sums, root, "VCPU") != 0.0 {
		t.Fatalf("after inventory: %d candidates, summaries %v", n, sums)
	}

	consumer := uuid.NewString()
	c.must(a, 204, "PUT", "/allocations/"+consumer, map[string]any{
		"allocations": map[string]any{root: map[string]any{"resources": map[string]int{"VCPU": 3}}},
		"project_id":  uuid.NewString(), "user_id": uuid.NewString(), "consumer_generation": nil, "consumer_type": "INSTANCE"})
	if _, sums := ctx("resources=VCPU:1"); used(sums, root, "VCPU") != 3.0 {
		t.Fatalf("after allocation: summaries %v", sums)
	}
	if n, _ := ctx("resources=VCPU:2"); n != 0 {
		t.Fatalf("VCPU:2 after allocating 3 of 4: %d candidates", n)
	}

	c.must(a, 201, "PUT", "/traits/CUSTOM_CACHE_TEST", nil)
	if n, _ := ctx("resources=VCPU:1&required=CUSTOM_CACHE_TEST"); n != 0 {
		t.Fatalf("new trait: %d candidates", n)
	}
	c.must(a, 200, "PUT", "/resource_providers/"+root+"/traits", map[string]any{
		"resource_provider_generation": 2, "traits": []string{"CUSTOM_CACHE_TEST"}})
	if n, _ := ctx("resources=VCPU:1&required=CUSTOM_CACHE_TEST"); n != 1 {
		t.Fatalf("after traits: %d candidates", n)
	}

	agg := uuid.NewString()
	c.must(a, 200, "PUT", "/resource_providers/"+root+"/aggregates", map[string]any{
		"resource_provider_generation": 3, "aggregates": []string{agg}})
	if n, _ := ctx("resources=VCPU:1&member_of=" + agg); n != 1 {
		t.Fatalf("after aggregates: %d candidates", n)
	}
	// Below 1.19 the aggregates PUT bumps no generation.
	if st, out := c.call(a, "1.18", "PUT", "/resource_providers/"+root+"/aggregates", []string{}); st != 200 {
		t.Fatalf("PUT aggregates 1.18 = %d %v", st, out)
	}
	if n, _ := ctx("resources=VCPU:1&member_of=" + agg); n != 0 {
		t.Fatalf("after removing aggregates at 1.18: %d candidates", n)
	}

	child := uuid.NewString()
	c.must(a, 200, "POST", "/resource_providers", map[string]any{"name": child, "uuid": child, "parent_provider_uuid": root})
	c.must(a, 200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"SRIOV_NET_VF": map[string]any{"total": 8}}})
	n, sums = ctx("resources=VCPU:1,SRIOV_NET_VF:2")
	if n != 1 || sums[child] == nil {
		t.Fatalf("after child: %d candidates, summaries %v", n, sums)
	}
	// Move the child out of the tree (1.37): the tree no longer has VFs.
	c.must(a, 200, "PUT", "/resource_providers/"+child, map[string]any{"name": child, "parent_provider_uuid": nil})
	if n, _ := ctx("resources=VCPU:1,SRIOV_NET_VF:2"); n != 0 {
		t.Fatalf("after un-parenting: %d candidates", n)
	}
	c.must(a, 204, "DELETE", "/resource_providers/"+child, nil)
	if n, _ := ctx("resources=SRIOV_NET_VF:1"); n != 0 {
		t.Fatalf("after deleting the child: %d candidates", n)
	}

	c.must(a, 204, "DELETE", "/allocations/"+consumer, nil)
	if _, sums := ctx("resources=VCPU:1"); used(sums, root, "VCPU") != 0.0 {
		t.Fatalf("after deleting the allocation: summaries %v", sums)
	}

	// A class rename (1.2–1.6) invalidates every cache.
	if st, out := c.call(a, "1.2", "POST", "/resource_classes", map[string]any{"name": "CUSTOM_OLD"}); st != 201 {
		t.Fatalf("create class = %d %v", st, out)
	}
	gen := c.must(a, 200, "GET", "/resource_providers/"+root, nil)["generation"]
	c.must(a, 201, "POST", "/resource_providers/"+root+"/inventories", map[string]any{
		"resource_provider_generation": gen, "resource_class": "CUSTOM_OLD", "total": 2})
	if n, _ := ctx("resources=CUSTOM_OLD:1"); n != 1 {
		t.Fatalf("custom class: %d candidates", n)
	}
	if st, out := c.call(a, "1.2", "PUT", "/resource_classes/CUSTOM_OLD", map[string]any{"name": "CUSTOM_NEW"}); st != 200 {
		t.Fatalf("rename class = %d %v", st, out)
	}
	if n, _ := ctx("resources=CUSTOM_NEW:1"); n != 1 {
		t.Fatalf("after the rename: %d candidates", n)
	}
	if st, _ := c.call(b, "1.39", "GET", "/allocation_candidates?resources=CUSTOM_OLD:1", nil); st != 400 {
		t.Fatalf("old class name after the rename: %d, want 400", st)
	}
}

// TestCandidateCache_ConcurrentWrites runs claims through instance A
// while instance B answers candidate requests, then checks that B's
// answer equals the per-request loader's.
func TestCandidateCache_ConcurrentWrites(t *testing.T) {
	a, b, oracle := twoServers(t)
	c := client{t, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	var rps []string
	for range 6 {
		rp := uuid.NewString()
		rps = append(rps, rp)
		c.must(a, 200, "POST", "/resource_providers", map[string]any{"name": rp, "uuid": rp})
		c.must(a, 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories": map[string]any{
				"VCPU":      map[string]any{"total": 50},
				"MEMORY_MB": map[string]any{"total": 5000}}})
	}
	const query = "resources=VCPU:1,MEMORY_MB:10"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.candidates(b, query)
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := range 25 {
				rp := rps[(w+i)%len(rps)]
				body := map[string]any{
					"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 1, "MEMORY_MB": 7}}},
					"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}
				if st, out := c.call(a, "1.39", "PUT", "/allocations/"+uuid.NewString(), body); st != 204 {
					t.Errorf("claim = %d %v", st, out)
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	_, got := c.candidates(b, query)
	_, want := c.candidates(oracle, query)
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("cached summaries differ from the loader's:\n got %s\nwant %s", g, w)
	}
	total := 0.0
	for _, rp := range rps {
		u, _ := used(got, rp, "VCPU").(float64)
		total += u
	}
	if total != 100 {
		t.Errorf("total VCPU used = %v, want 100", total)
	}
}

// TestCandidateCache_NULNameSharesNoRound: a class or trait name with a NUL
// byte, which PostgreSQL refuses in a statement, is unknown to the request
// that names it (as upstream: "No such resource class") and never reaches
// the change checks that concurrent requests share: they answer as if it
// had not been sent.
func TestCandidateCache_NULNameSharesNoRound(t *testing.T) {
	f := newFleet(t)
	f.vcpuProvider(f.cached[0], 8)
	srv := f.cached[0]
	var wg sync.WaitGroup
	statuses := make([]int, 400)
	next := make(chan int)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				query := "resources=VCPU:1"
				switch i % 4 {
				case 1:
					query = "resources=VCPU%00:1"
				case 3:
					query = "resources=VCPU:1&required=CUSTOM_%00"
				}
				statuses[i], _ = f.call(srv, "1.39", "GET", "/allocation_candidates?"+query, nil)
			}
		}()
	}
	for i := range statuses {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, st := range statuses {
		want := 200
		if i%2 == 1 {
			want = 400
		}
		if st != want {
			t.Fatalf("request %d: %d, want %d", i, st, want)
		}
	}
}
