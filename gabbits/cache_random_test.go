package gabbits

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	pick := func(from []string) []string {
		out := []string{}
		for _, x := range from {
			if r.IntN(2) == 0 {
				out = append(out, x)
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
			traits := pick([]string{"CUSTOM_A", "CUSTOM_B", "MISC_SHARES_VIA_AGGREGATE"})
			f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
				"resource_provider_generation": generation(rp), "traits": traits})
		case k == 5 || k == 6:
			rp := providers[r.IntN(len(providers))]
			f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{
				"resource_provider_generation": generation(rp), "aggregates": pick(aggs)})
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
