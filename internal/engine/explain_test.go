package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/gabbi"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
)

func showVerdict(v Verdict) string {
	g := "<nil>"
	if v.Group != nil {
		g = strconv.Quote(*v.Group)
	}
	return fmt.Sprintf("%+v group %s", v, g)
}

// explainWorld: two hosts with NUMA children and a shared disk pool.
func explainWorld(t *testing.T) *world {
	used := func(inv Inventory, n int64) Inventory { inv.Used = n; return inv }
	units := iv("VCPU", 16)
	units.StepSize, units.MinUnit, units.MaxUnit = 2, 2, 8
	return newWorld(t,
		tp{name: "H1", inv: []Inventory{used(iv("VCPU", 16), 14), iv("MEMORY_MB", 4096)}, traits: []string{"HW_CPU_X86_AVX2"}, aggs: []string{"G1"}},
		tp{name: "H2", inv: []Inventory{iv("VCPU", 16), iv("MEMORY_MB", 4096)}, aggs: []string{"G1"}},
		tp{name: "H3", inv: []Inventory{units, iv("MEMORY_MB", 4096)}, traits: []string{"HW_CPU_X86_AVX2", "CUSTOM_GOLD"}, aggs: []string{"G2"}},
		tp{name: "H3N0", parent: "H3", inv: []Inventory{iv("CUSTOM_PCPU", 4)}},
		tp{name: "H3N1", parent: "H3", inv: []Inventory{iv("CUSTOM_PCPU", 4)}},
		tp{name: "DISK", inv: []Inventory{iv("DISK_GB", 100)}, traits: []string{SharingTrait}, aggs: []string{"G1"}},
	)
}

func TestExplain_Reasons(t *testing.T) {
	t.Parallel()
	w := explainWorld(t)
	for _, tc := range []struct {
		name, query, provider string
		minor                 int
		opt                   Options
		want                  Verdict // Provider and Root filled in below
		group                 string  // "-" for a combined step
	}{
		{name: "capacity gives the numbers", query: "resources=VCPU:4", provider: "H1",
			want: Verdict{Step: "capacity of VCPU", Reason: "VCPU: requested 4, free 2 (capacity 16, used 14)"}},
		{name: "a missing inventory", query: "resources=DISK_GB:10,CUSTOM_PCPU:1", provider: "H1",
			want: Verdict{Step: "inventory of CUSTOM_PCPU", Reason: "no inventory of CUSTOM_PCPU (on each of the 2 providers that could serve the group under this root)"}},
		{name: "units", query: "resources=VCPU:3", provider: "H3",
			want: Verdict{Step: "min_unit, max_unit, step_size of VCPU", Reason: "VCPU: requested 3, not a multiple of step_size 2"}},
		{name: "above max_unit", query: "resources=VCPU:10", provider: "H3",
			want: Verdict{Step: "min_unit, max_unit, step_size of VCPU", Reason: "VCPU: requested 10, above max_unit 8"}},
		{name: "a suffixed group's required trait", query: "resources1=VCPU:2&required1=HW_CPU_X86_AVX2", provider: "H2", minor: 25,
			want: Verdict{Step: "required trait HW_CPU_X86_AVX2", Reason: "required trait HW_CPU_X86_AVX2 missing"}, group: "1"},
		{name: "the unsuffixed group's required trait", query: "resources=VCPU:2&required=CUSTOM_GOLD", provider: "H2",
			want: Verdict{Step: "required traits on any provider of the group", Reason: "no combination of providers that fits the resources has the required traits (CUSTOM_GOLD)"}},
		{name: "any of the traits", query: "resources=VCPU:2&required1=in:CUSTOM_GOLD,CUSTOM_SILVER&resources1=VCPU:2&group_policy=none", provider: "H2",
			want: Verdict{Step: "required any of traits CUSTOM_GOLD, CUSTOM_SILVER", Reason: "none of the traits CUSTOM_GOLD, CUSTOM_SILVER present"}, group: "1"},
		{name: "a forbidden trait", query: "resources=VCPU:2&required=!HW_CPU_X86_AVX2", provider: "H1",
			want: Verdict{Step: "forbidden trait HW_CPU_X86_AVX2", Reason: "forbidden trait HW_CPU_X86_AVX2 present"}},
		{name: "member_of", query: "resources=VCPU:2&member_of=$G2", provider: "H2",
			want: Verdict{Step: "member_of aggregate $G2", Reason: "not in aggregate $G2"}},
		{name: "a forbidden aggregate", query: "resources=VCPU:2&member_of=!$G1", provider: "H2",
			want: Verdict{Step: "forbidden aggregate $G1", Reason: "in forbidden aggregate $G1"}},
		{name: "in_tree", query: "resources=VCPU:2&in_tree=$H3", provider: "H2",
			want: Verdict{Step: "in_tree $H3", Reason: "not in the tree of $H3"}},
		{name: "root_required", query: "resources=VCPU:2&root_required=CUSTOM_GOLD", provider: "H2",
			want: Verdict{Step: "root_required CUSTOM_GOLD", Reason: "root lacks required trait CUSTOM_GOLD"}, group: "-"},
		{name: "root forbidden", query: "resources=VCPU:2&root_required=!CUSTOM_GOLD", provider: "H3N0",
			want: Verdict{Step: "root_required !CUSTOM_GOLD", Reason: "root has forbidden trait CUSTOM_GOLD"}, group: "-"},
		{name: "isolate", query: "resources1=CUSTOM_PCPU:1&resources2=CUSTOM_PCPU:4&resources3=CUSTOM_PCPU:1&group_policy=isolate", provider: "H3N1",
			want: Verdict{Step: "group_policy=isolate", Reason: "the suffixed groups cannot each be placed on a different provider"}, group: "-"},
		{name: "amounts together", query: "resources1=CUSTOM_PCPU:3&resources2=CUSTOM_PCPU:3&resources3=CUSTOM_PCPU:3&group_policy=none", provider: "H3",
			want: Verdict{Step: "amounts of all groups together", Reason: "each group fits on its own, but not all of them at once on the providers they share"}, group: "-"},
		{name: "same_subtree", query: "resources1=CUSTOM_PCPU:4&resources2=CUSTOM_PCPU:4&group_policy=isolate&same_subtree=1,2", provider: "H3",
			want: Verdict{Step: "same_subtree=1,2", Reason: "groups 1, 2 cannot be placed below one common provider"}, group: "-"},
		{name: "limit", query: "resources=VCPU:2&limit=1", provider: "H3",
			want: Verdict{Step: "candidates returned (limit=1)", Reason: "the tree can host the request, but the limit or [placement] max_allocation_candidates stopped generation before it"}, group: "-"},
		{name: "the generation cap", query: "resources=VCPU:2", provider: "H3", opt: Options{MaxCandidates: 1},
			want: Verdict{Step: "candidates returned (max_allocation_candidates=1)", Reason: "the tree can host the request, but the limit or [placement] max_allocation_candidates stopped generation before it"}, group: "-"},
		{name: "a sharing provider serving other roots passes", query: "resources=VCPU:2,DISK_GB:10", provider: "DISK",
			want: Verdict{Passed: true}},
		{name: "a child whose tree passes", query: "resources=VCPU:2,CUSTOM_PCPU:1", provider: "H3N1",
			want: Verdict{Passed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			minor := tc.minor
			if minor == 0 {
				minor = 39
			}
			req, err := candidate.ParseQuery(w.subst(tc.query), ver(minor))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := w.snap.ProviderByUUID(w.uuids[tc.provider])
			ex, err := Explain(context.Background(), w.snap, req, tc.opt, p)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Provider, want.Root = w.uuids[tc.provider], w.snap.Provider(w.snap.Provider(p).Root).UUID
			want.Step, want.Reason = w.subst(want.Step), w.subst(want.Reason)
			switch {
			case tc.group == "" && !want.Passed:
				want.Group = new(string)
			case tc.group != "" && tc.group != "-":
				want.Group = &tc.group
			}
			if got := *ex.Verdict; !reflect.DeepEqual(got, want) {
				t.Errorf("verdict\n got %s\nwant %s", showVerdict(got), showVerdict(want))
			}
		})
	}
}

func TestExplain_Funnel(t *testing.T) {
	t.Parallel()
	w := explainWorld(t)
	req, err := candidate.ParseQuery(w.subst("resources=VCPU:4,DISK_GB:10&required=HW_CPU_X86_AVX2&limit=5"), ver(39))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Explain(context.Background(), w.snap, req, Options{}, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := &Explanation{
		Groups: []GroupFunnel{{Suffix: "", Steps: []Step{
			{Name: "inventory of VCPU", Providers: 3, Roots: 3},
			{Name: "capacity of VCPU", Providers: 2, Roots: 2},
			{Name: "min_unit, max_unit, step_size of VCPU", Providers: 2, Roots: 2},
			// Only H2 is left, whose tree has no DISK_GB but shares DISK's.
			{Name: "inventory of DISK_GB", Providers: 2, Sharing: 1, Roots: 1},
			{Name: "capacity of DISK_GB", Providers: 2, Sharing: 1, Roots: 1},
			{Name: "min_unit, max_unit, step_size of DISK_GB", Providers: 2, Sharing: 1, Roots: 1},
			{Name: "required traits on any provider of the group", Providers: 0, Roots: 0},
		}}},
		Combined: []Step{
			{Name: "every group"},
			{Name: "amounts of all groups together"},
			{Name: "candidates returned (limit=5)", Candidates: new(int)},
		},
	}
	for _, steps := range [][]Step{ex.Groups[0].Steps, ex.Combined} {
		for i := range steps {
			ClearStepRoots(&steps[i])
		}
	}
	ex.Roots = nil
	if !reflect.DeepEqual(ex, want) {
		t.Errorf("explanation\n got %+v\nwant %+v", ex, want)
	}
}

// TestExplain_MatchesGenerateAndBruteForce checks the funnel over random
// worlds: its last step keeps exactly the roots of the candidates Generate
// returns; each group's last step keeps the roots under which the
// brute-force oracle finds options for the group, and the last combined
// step before the returned candidates the roots under which it finds a
// candidate; roots only ever drop out along a funnel; and an explained
// provider fails at the first step its root drops out of.
func TestExplain_MatchesGenerateAndBruteForce(t *testing.T) {
	t.Parallel()
	iterations := runs(2000, 300)
	failed, passed := 0, 0
	for seed := 0; seed < iterations; seed++ {
		r, w, req := randomCase(t, seed, 17)
		var opt Options
		if r.IntN(4) == 0 {
			req.Limit = 1 + r.IntN(3)
		}
		if r.IntN(4) == 0 {
			opt.MaxCandidates = 1 + r.IntN(3)
		}
		if r.IntN(3) == 0 {
			opt.Strategy = BreadthFirst
		}
		explained := int32(r.IntN(w.snap.Len()))
		ex, err := Explain(context.Background(), w.snap, req, opt, explained)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: world %+v\nrequest %+v\nexplanation %+v\n"+format, append([]any{seed, w.data, *req, ex}, args...)...)
		}
		// The returned candidates' roots, read from the summaries.
		res := generate(t, w.snap, req, opt)
		var want []int32
		for _, p := range res.Summaries {
			want = append(want, w.snap.Provider(p).Root)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		last := ex.Combined[len(ex.Combined)-1]
		if !slices.Equal(StepRoots(last), want) || !slices.Equal(ex.Roots, want) || *last.Candidates != len(res.Requests) {
			fail("last step roots %v (%d candidates), Generate's %v (%d)", StepRoots(last), *last.Candidates, want, len(res.Requests))
		}
		b := &bfWorld{ps: w.data, byID: map[int64]*ProviderData{}, req: req, snapN: w.snap.Nested}
		for i := range b.ps {
			b.byID[b.ps[i].ID] = &b.ps[i]
		}
		for gi := range req.Groups {
			var want []int32
			for _, a := range SnapshotRoots(w.snap) {
				if len(b.options(&req.Groups[gi], w.snap.Provider(a).ID)) > 0 {
					want = append(want, a)
				}
			}
			steps := ex.Groups[gi].Steps
			if got := StepRoots(steps[len(steps)-1]); !slices.Equal(got, want) {
				fail("group %d keeps roots %v, oracle %v", gi, got, want)
			}
		}
		want = nil
		for _, a := range SnapshotRoots(w.snap) {
			b.only = w.snap.Provider(a).ID
			if len(b.enumerate(bfRender(w))) > 0 {
				want = append(want, a)
			}
		}
		if got := StepRoots(ex.Combined[len(ex.Combined)-2]); !slices.Equal(got, want) {
			fail("combined steps keep roots %v, oracle %v", got, want)
		}
		// Roots only drop out, and the explained provider's root fails
		// at the first step that lacks it.
		root := w.snap.Provider(explained).Root
		var firstGroup *string
		var firstStep string
		check := func(group *string, steps []Step) {
			for i, st := range steps {
				if i > 0 && st.Name != last.Name {
					for _, x := range StepRoots(st) {
						if _, ok := slices.BinarySearch(StepRoots(steps[i-1]), x); !ok {
							fail("root %d appears at step %q", x, st.Name)
						}
					}
				}
				if _, ok := slices.BinarySearch(StepRoots(st), root); !ok && firstStep == "" {
					firstGroup, firstStep = group, st.Name
				}
			}
		}
		for _, g := range ex.Groups {
			check(&g.Suffix, g.Steps)
		}
		check(nil, ex.Combined)
		v := ex.Verdict
		if _, in := slices.BinarySearch(ex.Roots, root); in {
			if !v.Passed {
				fail("verdict %+v for a root of the candidates", v)
			}
			passed++
			continue
		}
		failed++
		if v.Passed || v.Step != firstStep || v.Reason == "" || (v.Group == nil) != (firstGroup == nil) ||
			v.Group != nil && *v.Group != *firstGroup {
			fail("verdict %+v, first step lacking root %d is %q", v, root, firstStep)
		}
	}
	t.Logf("%d passed, %d failed", passed, failed)
	if passed < iterations/10 || failed < iterations/10 {
		t.Errorf("%d explained providers passed and %d failed: random cases too one-sided", passed, failed)
	}
}

// FuzzExplain: no query string that parses may make Explain panic, for
// any provider explained; it fails only by its deadline and memory budget,
// and its last step agrees with Generate.
func FuzzExplain(f *testing.F) {
	for _, s := range gabbi.MustSeeds(f, "../../gabbits") {
		if s.Path == "/allocation_candidates" || s.Path == "/diagnostics/allocation_candidates" {
			f.Add(s.RawQuery, 39, 0)
		}
	}
	f.Add("resources=VCPU:1&resources1=CUSTOM_GPU:1&resources2=SRIOV_NET_VF:1&group_policy=isolate&same_subtree=1,2", 39, 3)
	f.Add("resources=VCPU:1,DISK_GB:10&required=in:HW_CPU_X86_AVX2,CUSTOM_PHYSNET&member_of=!in:"+aggUUID("OTHER")+"&root_required=!HW_NUMA_ROOT", 39, 5)
	f.Add("resources=VCPU:1&limit=1", 28, 4)
	w := fuzzWorld(f)
	f.Fuzz(func(t *testing.T, raw string, minor, provider int) {
		v := ver(((minor % 40) + 40) % 40)
		req, err := candidate.ParseQuery(w.subst(raw), v)
		if err != nil {
			return
		}
		p := int32(((provider%(w.snap.Len()+1))+w.snap.Len()+1)%(w.snap.Len()+1)) - 1
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		opt := Options{MemoryLimit: 8 << 20}
		ex, err := Explain(ctx, w.snap, req, opt, p)
		if !boundedOK(t, "Explain", raw, ex == nil, err) {
			return
		}
		if (p >= 0) != (ex.Verdict != nil) || ex.Verdict != nil && !ex.Verdict.Passed && ex.Verdict.Reason == "" {
			t.Fatalf("Explain(%q, %d): verdict %+v", raw, p, ex.Verdict)
		}
		res, err := Generate(ctx, w.snap, req, opt)
		if err != nil {
			return
		}
		if got := *ex.Combined[len(ex.Combined)-1].Candidates; got != len(res.Requests) {
			t.Fatalf("Explain(%q): %d candidates, Generate %d", raw, got, len(res.Requests))
		}
	})
}
