package gabbits

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// TestCandidateCache_RandomWritesAgree: a random series of the writes a
// refresh applies in place (providers created, as roots or children, and
// deleted; traits, the sharing trait and aggregates set; inventories and
// allocations) and of those that rebuild (a provider un-parented), each
// followed, now and then, by candidate requests that every cached instance
// must answer exactly as the per-request loader does.
func TestCandidateCache_RandomWritesAgree(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { randomWritesAgree(t, rand.New(rand.NewPCG(seed, 5))) })
	}
}

func randomWritesAgree(t *testing.T, r *rand.Rand) {
	f := newFleet(t)
	srv := f.cached[0]
	aggs := []string{uuid.NewString(), uuid.NewString()}
	for _, name := range []string{"CUSTOM_A", "CUSTOM_B"} {
		f.must(srv, 201, "PUT", "/traits/"+name, nil)
	}
	parent := map[string]string{} // provider -> parent ("" for a root)
	var providers []string
	generation := func(rp string) int {
		out := f.must(srv, 200, "GET", "/resource_providers/"+rp, nil)
		return int(out["generation"].(float64))
	}
	create := func(under string) {
		rp := uuid.NewString()
		body := map[string]any{"name": rp, "uuid": rp}
		class := []string{"VCPU", "DISK_GB"}[r.IntN(2)]
		if under != "" {
			body["parent_provider_uuid"] = under
			class = []string{"VGPU", "DISK_GB"}[r.IntN(2)]
		}
		f.must(srv, 200, "POST", "/resource_providers", body)
		f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{class: map[string]any{"total": 2 + r.IntN(6)}}})
		parent[rp] = under
		providers = append(providers, rp)
	}
	childless := func() []string {
		var out []string
		for _, rp := range providers {
			if !slices.ContainsFunc(providers, func(q string) bool { return parent[q] == rp }) {
				out = append(out, rp)
			}
		}
		return out
	}
	queries := []string{"resources=VCPU:1", "resources=DISK_GB:2", "resources=VCPU:1&resources1=VGPU:1",
		"resources=VCPU:1&required=CUSTOM_A", "resources=VCPU:1,DISK_GB:1", "resources=VCPU:1&member_of=" + aggs[0],
		"resources=VGPU:1&required=!CUSTOM_B&group_policy=none"}
	for step := range 250 {
		switch k := r.IntN(10); {
		case len(providers) < 3 || k == 0:
			create("")
		case k == 1:
			create(providers[r.IntN(len(providers))])
		case k == 2:
			rp := childless()[r.IntN(len(childless()))]
			switch st, _ := f.call(srv, "1.39", "DELETE", "/resource_providers/"+rp, nil); st {
			case 204:
				providers = slices.DeleteFunc(providers, func(q string) bool { return q == rp })
				delete(parent, rp)
			case 409: // it has allocations
			default:
				t.Fatalf("step %d: delete answered %d", step, st)
			}
		case k == 3 || k == 4:
			rp := providers[r.IntN(len(providers))]
			traits := pickSome(r, []string{"CUSTOM_A", "CUSTOM_B", "MISC_SHARES_VIA_AGGREGATE"})
			f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
				"resource_provider_generation": generation(rp), "traits": traits})
		case k == 5 || k == 6:
			rp := providers[r.IntN(len(providers))]
			f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{
				"resource_provider_generation": generation(rp), "aggregates": pickSome(r, aggs)})
		case k == 7:
			rp := providers[r.IntN(len(providers))]
			st, _ := f.call(srv, "1.39", "PUT", "/allocations/"+uuid.NewString(), map[string]any{
				"allocations":         map[string]any{rp: map[string]any{"resources": map[string]int{"DISK_GB": 1}}},
				"consumer_generation": nil, "project_id": "p", "user_id": "u", "consumer_type": "INSTANCE"})
			if st != 204 && st != 400 && st != 409 { // no DISK_GB there, or full
				t.Fatalf("step %d: allocation answered %d", step, st)
			}
		case k == 8:
			var children []string
			for _, rp := range providers {
				if parent[rp] != "" {
					children = append(children, rp)
				}
			}
			if len(children) > 0 && r.IntN(3) == 0 {
				rp := children[r.IntN(len(children))]
				f.must(srv, 200, "PUT", "/resource_providers/"+rp, map[string]any{"name": rp, "parent_provider_uuid": nil})
				parent[rp] = ""
			}
		}
		if r.IntN(3) == 0 {
			f.agree(queries[r.IntN(len(queries))])
		}
	}
	for _, q := range queries {
		f.agree(q)
	}
}

// pickSome returns each of from with probability one half, in order
// (an empty list, not nil, when none).
func pickSome(r *rand.Rand, from []string) []string {
	out := []string{}
	for _, x := range from {
		if r.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	return out
}

// TestCandidateCache_ConcurrentWritesAgree: writers on every instance at
// once (providers created, as roots or children, re-parented, un-parented
// and deleted; traits, aggregates, inventories and allocations set), while
// readers keep the caches refreshing between their commits. Each time the
// writers pause, every cached instance must answer every query as the
// per-request loader does: a change a refresh missed because its
// transaction committed while another was being read would stay missing.
func TestCandidateCache_ConcurrentWritesAgree(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { concurrentWritesAgree(t, seed) })
	}
}

// world is what the writers of concurrentWritesAgree share: the providers
// they know of, and the aggregates they put them in.
type world struct {
	mu        sync.Mutex
	providers []string
	aggs      []string
}

func (w *world) any(r *rand.Rand) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.providers) == 0 {
		return ""
	}
	return w.providers[r.IntN(len(w.providers))]
}

func (w *world) add(rp string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.providers = append(w.providers, rp)
}

func (w *world) drop(rp string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.providers = slices.DeleteFunc(w.providers, func(q string) bool { return q == rp })
}

func concurrentWritesAgree(t *testing.T, seed uint64) {
	f := newFleet(t)
	for _, name := range []string{"CUSTOM_A", "CUSTOM_B"} {
		f.must(f.cached[0], 201, "PUT", "/traits/"+name, nil)
	}
	w := &world{aggs: []string{uuid.NewString(), uuid.NewString()}}
	queries := []string{"resources=VCPU:1", "resources=DISK_GB:2", "resources=VCPU:1&resources1=VGPU:1",
		"resources=VCPU:1&required=CUSTOM_A", "resources=VCPU:1,DISK_GB:1", "resources=VCPU:1&member_of=" + w.aggs[0],
		"resources=VGPU:1&required=!CUSTOM_B&group_policy=none", "resources=VCPU:1,VGPU:1",
		"resources_1=VCPU:1&resources_2=VGPU:1&group_policy=isolate&same_subtree=_1,_2"}
	servers := append(slices.Clone(f.cached), f.oracle)
	c := client{t, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}

	var stop atomic.Bool
	var readers sync.WaitGroup
	defer func() { stop.Store(true); readers.Wait() }()
	for i := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			r := rand.New(rand.NewPCG(seed, uint64(100+i)))
			for !stop.Load() {
				q := queries[r.IntN(len(queries))]
				if st, out := c.call(f.cached[r.IntN(len(f.cached))], "1.39", "GET", "/allocation_candidates?"+q, nil); st != 200 {
					t.Errorf("reader: %s = %d %v", q, st, out)
					return
				}
			}
		}()
	}
	for phase := range 5 {
		var writers sync.WaitGroup
		for i := range 4 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				r := rand.New(rand.NewPCG(seed, uint64(phase*10+i)))
				for range 60 {
					srv := servers[r.IntN(len(servers))]
					if err := randomWrite(c, srv, w, r); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		writers.Wait()
		if t.Failed() {
			break
		}
		for _, q := range queries {
			f.agree(q)
		}
	}
}

// randomWrite makes one random write through srv. A refusal the API may
// give to a write that raced another (a conflict, a provider gone or still
// in use) is no error; a 500 or an unexpected status is.
func randomWrite(c client, srv *httptest.Server, w *world, r *rand.Rand) error {
	rp := w.any(r)
	call := func(method, path string, body any, ok ...int) error {
		st, out := c.call(srv, "1.39", method, path, body)
		if !slices.Contains(ok, st) {
			return fmt.Errorf("%s %s %v = %d %v", method, path, body, st, out)
		}
		return nil
	}
	generation := func(rp string) any {
		st, out := c.call(srv, "1.39", "GET", "/resource_providers/"+rp, nil)
		if st != 200 {
			return 0
		}
		return out["generation"]
	}
	switch k := r.IntN(12); {
	case rp == "" || k <= 1:
		id := uuid.NewString()
		body := map[string]any{"name": id, "uuid": id}
		if k == 1 && rp != "" {
			body["parent_provider_uuid"] = rp
		}
		switch st, out := c.call(srv, "1.39", "POST", "/resource_providers", body); st {
		case 200:
			w.add(id)
		case 400: // the parent was deleted meanwhile
			return nil
		default:
			return fmt.Errorf("POST %v = %d %v", body, st, out)
		}
		inv := map[string]any{[]string{"VCPU", "DISK_GB", "VGPU"}[r.IntN(3)]: map[string]any{"total": 2 + r.IntN(6)}}
		return call("PUT", "/resource_providers/"+id+"/inventories",
			map[string]any{"resource_provider_generation": 0, "inventories": inv}, 200, 404, 409)
	case k == 2:
		st, out := c.call(srv, "1.39", "DELETE", "/resource_providers/"+rp, nil)
		switch st {
		case 204:
			w.drop(rp)
		case 404, 409:
		default:
			return fmt.Errorf("DELETE %s = %d %v", rp, st, out)
		}
		return nil
	case k == 3 || k == 4:
		return call("PUT", "/resource_providers/"+rp+"/traits", map[string]any{
			"resource_provider_generation": generation(rp), "traits": pickSome(r, []string{"CUSTOM_A", "CUSTOM_B", "MISC_SHARES_VIA_AGGREGATE"})},
			200, 404, 409)
	case k == 5:
		return call("PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{
			"resource_provider_generation": generation(rp), "aggregates": pickSome(r, w.aggs)}, 200, 404, 409)
	case k == 6:
		inv := map[string]any{}
		for _, class := range pickSome(r, []string{"VCPU", "DISK_GB", "VGPU"}) {
			inv[class] = map[string]any{"total": 1 + r.IntN(8)}
		}
		return call("PUT", "/resource_providers/"+rp+"/inventories",
			map[string]any{"resource_provider_generation": generation(rp), "inventories": inv}, 200, 404, 409)
	case k == 7 || k == 8:
		return call("PUT", "/allocations/"+uuid.NewString(), map[string]any{
			"allocations":         map[string]any{rp: map[string]any{"resources": map[string]int{[]string{"VCPU", "DISK_GB", "VGPU"}[r.IntN(3)]: 1}}},
			"consumer_generation": nil, "project_id": "p", "user_id": "u", "consumer_type": "INSTANCE"}, 204, 400, 404, 409)
	case k == 9:
		// Re-parent under another provider (a loop is a 400), or un-parent.
		var parent any
		if r.IntN(3) > 0 {
			parent = w.any(r)
		}
		return call("PUT", "/resource_providers/"+rp, map[string]any{"name": rp, "parent_provider_uuid": parent}, 200, 400, 404, 409)
	default:
		q := "resources=VCPU:1"
		if r.IntN(2) == 0 {
			q = "resources=VCPU:1&resources1=VGPU:1"
		}
		return call("GET", "/allocation_candidates?"+q, nil, 200)
	}
}
