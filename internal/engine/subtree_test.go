package engine_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
)

// wideTreeCase draws one or two trees of 5 to 40 providers, wide or deep,
// most holding CUSTOM_GPU, and sometimes a sharing GPU provider, with a
// request of two or three GPU groups (and sometimes a resourceless one)
// tied by same_subtree.
func wideTreeCase(t testing.TB, seed int) (*world, *Request) {
	r := rand.New(rand.NewPCG(uint64(seed), 44))
	var provs []tp
	n := 0
	for tree := 0; tree < 1+r.IntN(2); tree++ {
		root := tp{name: fmt.Sprintf("P%d", n), inv: []Inventory{iv("VCPU", 4)}, aggs: []string{"G1"}}
		members := []string{root.name}
		provs = append(provs, root)
		deep := r.Float64() < 0.3
		for i := 1; i < 5+r.IntN(36); i++ {
			n++
			p := tp{name: fmt.Sprintf("P%d", n), parent: members[r.IntN(len(members))]}
			if deep && r.Float64() < 0.6 {
				p.parent = members[len(members)-1]
			}
			if r.Float64() < 0.7 {
				p.inv = []Inventory{iv("CUSTOM_GPU", 1+r.IntN(3))}
			}
			if r.Float64() < 0.3 {
				p.traits = []string{"CUSTOM_T1"}
			}
			members = append(members, p.name)
			provs = append(provs, p)
		}
		n++
	}
	if r.Float64() < 0.3 {
		provs = append(provs, tp{name: "S", inv: []Inventory{iv("CUSTOM_GPU", 4)}, traits: []string{SharingTrait}, aggs: []string{"G1"}})
	}
	w := newWorld(t, provs...)

	req := &Request{NestedAware: true, GroupPolicy: []string{"none", "isolate"}[r.IntN(2)]}
	if r.Float64() < 0.3 {
		req.Groups = append(req.Groups, Group{Resources: []Resource{{Class: "VCPU", Amount: 1}}})
	}
	var tied []string
	for i := 1; i <= 2+r.IntN(2); i++ {
		g := Group{Suffix: fmt.Sprint(i), Resources: []Resource{{Class: "CUSTOM_GPU", Amount: 1}}}
		if r.Float64() < 0.2 {
			g.Required = [][]string{{"CUSTOM_T1"}}
		}
		req.Groups = append(req.Groups, g)
		if len(tied) < 2 || r.Float64() < 0.7 {
			tied = append(tied, g.Suffix)
		}
	}
	if r.Float64() < 0.25 {
		req.Groups = append(req.Groups, Group{Suffix: "X", Required: [][]string{{"CUSTOM_T1"}}})
		tied = append(tied, "X")
	}
	r.Shuffle(len(tied), func(i, j int) { tied[i], tied[j] = tied[j], tied[i] })
	req.SameSubtree = [][]string{tied}
	for _, g := range req.Groups {
		w.suffixes = append(w.suffixes, g.Suffix)
	}
	return w, req
}

// TestGenerate_SubtreeNarrowingOnWideTrees: on trees wide and deep enough
// for same_subtree's options to be narrowed, the candidates are the brute
// force's, narrowed as the generator chooses and narrowed always, in both
// orders.
func TestGenerate_SubtreeNarrowingOnWideTrees(t *testing.T) {
	t.Parallel()
	iterations := runs(400, 60)
	nonEmpty := 0
	for seed := 0; seed < iterations; seed++ {
		w, req := wideTreeCase(t, seed)
		b := &bfWorld{ps: w.data, byID: map[int64]*ProviderData{}, req: req, snapN: w.snap.Nested}
		for i := range b.ps {
			b.byID[b.ps[i].ID] = &b.ps[i]
		}
		want := b.enumerate(bfRender(w))
		always := Options{}
		SubtreeAlways(&always)
		breadth := Options{Strategy: BreadthFirst}
		SubtreeAlways(&breadth)
		for name, opt := range map[string]Options{"default": {}, "always": always, "always, breadth-first": breadth} {
			got := w.shows(generate(t, w.snap, req, opt), true)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, %s: world %+v\nrequest %+v\n got %q\nwant %q", seed, name, w.data, *req, got, want)
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < iterations/5 {
		t.Errorf("only %d of %d cases had candidates", nonEmpty, iterations)
	}
}

// TestGenerate_SameSubtreeOverManyChildren: groups tied by same_subtree
// over a root of many GPU children, where no combination works (each
// child holds one GPU), finish at once: tried option by option, two
// groups over 10,000 children took 4.5 s and three over 1,000 took 2.5 s.
func TestGenerate_SameSubtreeOverManyChildren(t *testing.T) {
	t.Parallel()
	ps := []ProviderData{{ID: 1, UUID: provUUID(1), RootID: 1, Inventories: []Inventory{iv("VCPU", 8)}}}
	for i := 2; i <= 10001; i++ {
		ps = append(ps, ProviderData{ID: int64(i), UUID: provUUID(i), ParentID: 1, RootID: 1, Inventories: []Inventory{iv("CUSTOM_GPU", 1)}})
	}
	numberClasses(ps)
	s := mustSnapshot(t, ps, true)
	for _, q := range []string{
		"resources_A=CUSTOM_GPU:1&resources_B=CUSTOM_GPU:1&same_subtree=_A,_B&group_policy=isolate",
		"resources=VCPU:1&resources_A=CUSTOM_GPU:1&resources_B=CUSTOM_GPU:1&same_subtree=_A,_B&group_policy=none",
		"resources_A=CUSTOM_GPU:1&resources_B=CUSTOM_GPU:1&resources_C=CUSTOM_GPU:1&same_subtree=_A,_B,_C&group_policy=isolate",
	} {
		start := time.Now()
		req, err := candidate.ParseQuery(q, ver(39))
		if err != nil {
			t.Fatal(err)
		}
		if res := generate(t, s, req, Options{}); len(res.Requests) != 0 {
			t.Errorf("%s: %d candidates, want none", q, len(res.Requests))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %s, want well under a second", q, d)
		}
	}
}

// TestGenerate_SameSubtreeJudgedEarly: a host of 1,000 VFs beside the
// root, 64 GPUs, and 16 NUMA nodes with 4 PFs of 8 VFs each, and a GPU
// pool shared with it. A constraint no choice can keep (a GPU and a NUMA
// node are siblings) is found out once under the root, not under every
// combination of the groups placed before it (4.4 s; with
// group_policy=isolate, over 5 s; when the groups could only share one
// provider too small for them, over a minute); and a first group that
// took a VF no NUMA node is above is given up at once, not after every
// combination of the groups between it and the NUMA group (19 s to find
// the first 5 candidates).
func TestGenerate_SameSubtreeJudgedEarly(t *testing.T) {
	t.Parallel()
	var ps []ProviderData
	add := func(parent int64, invs []Inventory, traits ...string) int64 {
		id := int64(len(ps) + 1)
		ps = append(ps, ProviderData{ID: id, UUID: provUUID(int(id)), ParentID: parent, RootID: 1, Inventories: invs, Traits: traits})
		return id
	}
	root := add(0, []Inventory{iv("MEMORY_MB", 65536)})
	for range 1000 {
		add(root, []Inventory{iv("CUSTOM_VF", 1)})
	}
	for range 64 {
		add(root, []Inventory{iv("CUSTOM_GPU", 2)})
	}
	for range 16 {
		numa := add(root, []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 8192)}, "HW_NUMA_ROOT")
		for range 4 {
			pf := add(numa, []Inventory{iv("CUSTOM_PF", 8)})
			for range 8 {
				add(pf, []Inventory{iv("CUSTOM_VF", 1)}, "CUSTOM_TV")
			}
		}
	}
	// A GPU pool shared with the host: a provider of another tree,
	// which same_subtree accepts only alone.
	ps[0].Aggregates = []string{aggUUID("POOL")}
	ps = append(ps, ProviderData{ID: int64(len(ps) + 1), UUID: provUUID(len(ps) + 1), RootID: int64(len(ps) + 1),
		Inventories: []Inventory{iv("CUSTOM_GPU", 4)}, Traits: []string{SharingTrait}, Aggregates: []string{aggUUID("POOL")}})
	numberClasses(ps)
	s := mustSnapshot(t, ps, true)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"resources=CUSTOM_GPU:2&resources_A=CUSTOM_VF:1&required_B=HW_NUMA_ROOT&resources_C=CUSTOM_GPU:1&same_subtree=_C,_B&group_policy=none", 0},
		{"resources_A=CUSTOM_VF:1&resources_B=MEMORY_MB:1&resources_C=CUSTOM_VF:1&resources_D=VCPU:1&required_D=HW_NUMA_ROOT&same_subtree=_A,_D&group_policy=none&limit=5", 5},
		// Two GPUs, leaves, in one subtree only as the same provider,
		// which isolate forbids: timed out (over 5 s) before.
		{"resources=CUSTOM_VF:1&resources_A=CUSTOM_GPU:1&resources_B=CUSTOM_VF:1&resources_C=CUSTOM_GPU:1&same_subtree=_A,_C&group_policy=isolate", 0},
		// Two VF groups and a VF by its trait, all on one VF of one unit:
		// they do not fit together (over a minute before).
		{"resources=CUSTOM_VF:1&resources_A=CUSTOM_GPU:1&resources_B=CUSTOM_VF:1&required_C=CUSTOM_TV&resources_D=CUSTOM_VF:1&same_subtree=_D,_C,_B&group_policy=none", 0},
	} {
		req, err := candidate.ParseQuery(c.query, ver(39))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if res := generate(t, s, req, Options{}); len(res.Requests) != c.want {
			t.Errorf("%s: %d candidates, want %d", c.query, len(res.Requests), c.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %s, want well under a second", c.query, d)
		}
	}
}

// TestGenerate_SameSubtreeDeepChain: in a chain of 10,000 nested
// providers the judgements that walk up from a provider stop at the first
// ancestor that answers (walking the whole chain for each option made
// limit=5 take 1.5 s).
func TestGenerate_SameSubtreeDeepChain(t *testing.T) {
	t.Parallel()
	var ps []ProviderData
	for i := 1; i <= 10000; i++ {
		ps = append(ps, ProviderData{ID: int64(i), UUID: provUUID(i), ParentID: int64(i - 1), RootID: 1, Inventories: []Inventory{iv("CUSTOM_VF", 1)}})
	}
	numberClasses(ps)
	s := mustSnapshot(t, ps, true)
	req, err := candidate.ParseQuery("resources_A=CUSTOM_VF:1&resources_B=CUSTOM_VF:1&same_subtree=_A,_B&group_policy=isolate&limit=5", ver(39))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if res := generate(t, s, req, Options{}); len(res.Requests) != 5 {
		t.Errorf("%d candidates, want 5", len(res.Requests))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("%s, want a few milliseconds", d)
	}
}
