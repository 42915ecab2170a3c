package engine_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// The brute-force oracle below reads the raw ProviderData and the Request
// and enumerates, for every root as anchor, every assignment of every
// requested class of every group to every provider — no indexes, no
// pruning, no shared code with the generator except the capacity rule of
// placement.Inventory. It states spec 07 §5–§6 as directly as possible.

type bfWorld struct {
	ps    []ProviderData
	byID  map[int64]*ProviderData
	req   *Request
	snapN bool  // any provider has a parent
	only  int64 // if set, enumerate judges only the root with this ID

	// upstream's order of the unsuffixed group's trees (see offered)
	rank    map[int64]int
	members map[[3]int64]struct{}
}

func (b *bfWorld) has(p *ProviderData, trait string) bool { return slices.Contains(p.Traits, trait) }
func (b *bfWorld) inAgg(p *ProviderData, agg string) bool { return slices.Contains(p.Aggregates, agg) }
func (b *bfWorld) sharing(p *ProviderData) bool           { return b.has(p, SharingTrait) }

func (b *bfWorld) root(p *ProviderData) *ProviderData { return b.byID[p.RootID] }

// anchorsOf is spec §5 anchors(s).
func (b *bfWorld) anchorsOf(s *ProviderData) []int64 {
	var out []int64
	for i := range b.ps {
		q := &b.ps[i]
		for _, a := range q.Aggregates {
			if b.inAgg(s, a) && !slices.Contains(out, q.RootID) {
				out = append(out, q.RootID)
			}
		}
	}
	return out
}

func (b *bfWorld) fits(p *ProviderData, class string, n int64) bool {
	for _, inv := range p.Inventories {
		if inv.Class == class {
			return inv.FitsUnits(int(n)) && inv.FitsCapacity(inv.Used, n)
		}
	}
	return false
}

// anyOfOK: every set has a member in have.
func anyOfOK(have func(string) bool, sets [][]string) bool {
	for _, set := range sets {
		ok := false
		for _, x := range set {
			ok = ok || have(x)
		}
		if !ok {
			return false
		}
	}
	return true
}

func noneOf(have func(string) bool, names []string) bool {
	for _, x := range names {
		if have(x) {
			return false
		}
	}
	return true
}

// usable: p may serve a group under anchor a (its own tree or sharing).
func (b *bfWorld) usable(p *ProviderData, a int64) bool {
	return p.RootID == a || b.sharing(p) && slices.Contains(b.anchorsOf(p), a)
}

type bfAlloc struct {
	prov  *ProviderData
	class string
	n     int64
}

type bfOption struct {
	allocs []bfAlloc
	mapped []*ProviderData
}

func (b *bfWorld) options(g *Group, a int64) []bfOption {
	var out []bfOption
	traitsOf := func(p *ProviderData) func(string) bool { return func(t string) bool { return b.has(p, t) } }
	aggsOf := func(p *ProviderData) func(string) bool { return func(x string) bool { return b.inAgg(p, x) } }
	var inTreeRoot int64 = -1
	if g.InTree != "" {
		for i := range b.ps {
			if b.ps[i].UUID == g.InTree {
				inTreeRoot = b.ps[i].RootID
			}
		}
	}
	if g.Suffix != "" {
		for i := range b.ps {
			p := &b.ps[i]
			if !b.usable(p, a) {
				continue
			}
			if !anyOfOK(traitsOf(p), g.Required) || !noneOf(traitsOf(p), g.Forbidden) ||
				!anyOfOK(aggsOf(p), g.MemberOf) || !noneOf(aggsOf(p), g.ForbiddenAggs) {
				continue
			}
			if len(g.Resources) == 0 {
				if len(g.Required) == 0 && len(g.MemberOf) == 0 {
					continue
				}
				out = append(out, bfOption{mapped: []*ProviderData{p}})
				continue
			}
			if g.InTree != "" && p.RootID != inTreeRoot {
				continue
			}
			ok := true
			var allocs []bfAlloc
			for _, r := range g.Resources {
				ok = ok && b.fits(p, r.Class, r.Amount)
				allocs = append(allocs, bfAlloc{p, r.Class, r.Amount})
			}
			if ok {
				out = append(out, bfOption{allocs: allocs, mapped: []*ProviderData{p}})
			}
		}
		return out
	}
	anchor := b.byID[a]
	// every assignment of classes to providers
	var rec func(k int, allocs []bfAlloc)
	rec = func(k int, allocs []bfAlloc) {
		if k == len(g.Resources) {
			var used []*ProviderData
			for _, x := range allocs {
				if !slices.Contains(used, x.prov) {
					used = append(used, x.prov)
				}
			}
			have := func(t string) bool {
				for _, p := range used {
					if b.has(p, t) {
						return true
					}
				}
				return false
			}
			if anyOfOK(have, g.Required) && (len(b.req.Groups) == 1 || b.offered(used, allocs, a)) {
				out = append(out, bfOption{allocs: slices.Clone(allocs), mapped: used})
			}
			return
		}
		r := g.Resources[k]
		for i := range b.ps {
			p := &b.ps[i]
			tree := p.RootID == a && (g.InTree == "" || p.RootID == inTreeRoot)
			shared := g.InTree == "" && b.sharing(p) && anyOfOK(aggsOf(p), g.MemberOf) && slices.Contains(b.anchorsOf(p), a)
			if !tree && !shared {
				continue
			}
			if !b.fits(p, r.Class, r.Amount) || !noneOf(traitsOf(p), g.Forbidden) {
				continue
			}
			if len(g.MemberOf) > 0 && !anyOfOK(aggsOf(p), g.MemberOf) && !anyOfOK(aggsOf(anchor), g.MemberOf) {
				continue
			}
			if !noneOf(aggsOf(p), g.ForbiddenAggs) || !noneOf(aggsOf(anchor), g.ForbiddenAggs) {
				continue
			}
			rec(k+1, append(allocs, bfAlloc{p, r.Class, r.Amount}))
		}
	}
	rec(0, nil)
	return out
}

// offered: with other groups, upstream offers a combination of the
// unsuffixed group under a when it uses a provider of a's own tree; one
// made of sharing providers alone only under the first of its anchors in
// upstream's order of the trees (the engine's replay of it, whose order
// pycompat tests against CPython's).
func (b *bfWorld) offered(used []*ProviderData, allocs []bfAlloc, a int64) bool {
	for _, p := range used {
		if !b.sharing(p) {
			return true
		}
	}
	if b.rank == nil {
		snap, err := NewSnapshot(b.ps, b.snapN)
		if err != nil {
			panic(err)
		}
		b.rank, b.members = UpstreamTreeOrder(snap, b.req)
	}
	best, first := -1, int64(0)
	for _, r := range append([]int64{used[0].RootID}, b.anchorsOf(used[0])...) {
		pos, ok := b.rank[r]
		if !ok || best >= 0 && pos >= best {
			continue
		}
		all := true
		for _, x := range allocs {
			i := slices.IndexFunc(x.prov.Inventories, func(inv Inventory) bool { return inv.Class == x.class })
			_, in := b.members[[3]int64{x.prov.ID, r, x.prov.Inventories[i].ClassID}]
			all = all && in
		}
		if all {
			best, first = pos, r
		}
	}
	return best >= 0 && first == a
}

func (b *bfWorld) ancestorOrSelf(u, v *ProviderData) bool {
	for {
		if u == v {
			return true
		}
		if v.ParentID == 0 {
			return false
		}
		v = b.byID[v.ParentID]
	}
}

// enumerate returns the set of valid candidates, rendered by render.
func (b *bfWorld) enumerate(render func([]bfAlloc, [][]*ProviderData) string) []string {
	req := b.req
	for _, g := range req.Groups {
		if g.InTree == "" {
			continue
		}
		found := false
		for i := range b.ps {
			found = found || b.ps[i].UUID == g.InTree
		}
		if !found {
			return []string{}
		}
	}
	set := map[string]bool{}
	for i := range b.ps {
		anchor := &b.ps[i]
		if anchor.ParentID != 0 || b.only != 0 && anchor.ID != b.only {
			continue
		}
		have := func(t string) bool { return b.has(anchor, t) }
		if !noneOf(have, req.RootForbidden) || !anyOfOK(have, wrap(req.RootRequired)) {
			continue
		}
		per := make([][]bfOption, len(req.Groups))
		for gi := range req.Groups {
			per[gi] = b.options(&req.Groups[gi], anchor.ID)
		}
		combo := make([]bfOption, len(req.Groups))
		var rec func(gi int)
		rec = func(gi int) {
			if gi < len(req.Groups) {
				for _, o := range per[gi] {
					combo[gi] = o
					rec(gi + 1)
				}
				return
			}
			if req.Isolate() {
				var ps []*ProviderData
				for gi, g := range req.Groups {
					if g.Suffix != "" {
						if slices.Contains(ps, combo[gi].mapped[0]) {
							return
						}
						ps = append(ps, combo[gi].mapped[0])
					}
				}
			}
			for _, st := range req.SameSubtree {
				var u []*ProviderData
				for gi, g := range req.Groups {
					if slices.Contains(st, g.Suffix) {
						u = append(u, combo[gi].mapped...)
					}
				}
				ok := false
				for _, x := range u {
					all := true
					for _, y := range u {
						all = all && b.ancestorOrSelf(x, y)
					}
					ok = ok || all
				}
				if len(u) > 0 && !ok {
					return
				}
			}
			var allocs []bfAlloc
			var maps [][]*ProviderData
			for _, o := range combo {
				allocs = append(allocs, o.allocs...)
				maps = append(maps, o.mapped)
			}
			// merged capacity
			totals := map[[2]string]int64{}
			for _, x := range allocs {
				totals[[2]string{x.prov.UUID, x.class}] += x.n
			}
			for _, x := range allocs {
				t := totals[[2]string{x.prov.UUID, x.class}]
				if !b.fits(x.prov, x.class, t) {
					return
				}
			}
			if !req.NestedAware && b.snapN {
				for _, x := range allocs {
					for _, y := range allocs {
						if x.prov != y.prov && x.prov.RootID == y.prov.RootID {
							return
						}
					}
				}
			}
			set[render(allocs, maps)] = true
		}
		rec(0)
	}
	out := []string{}
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wrap(names []string) [][]string {
	var out [][]string
	for _, n := range names {
		out = append(out, []string{n})
	}
	return out
}

func bfRender(w *world) func([]bfAlloc, [][]*ProviderData) string {
	return func(allocs []bfAlloc, maps [][]*ProviderData) string {
		per := map[string]map[string]int64{}
		for _, x := range allocs {
			n := w.names[x.prov.UUID]
			if per[n] == nil {
				per[n] = map[string]int64{}
			}
			per[n][x.class] += x.n
		}
		var parts []string
		for n, rs := range per {
			var items []string
			for c, a := range rs {
				items = append(items, fmt.Sprintf("%s:%d", c, a))
			}
			sort.Strings(items)
			parts = append(parts, n+"{"+strings.Join(items, ",")+"}")
		}
		sort.Strings(parts)
		var ms []string
		for gi, m := range maps {
			var ns []string
			for _, p := range m {
				ns = append(ns, w.names[p.UUID])
			}
			sort.Strings(ns)
			ms = append(ms, fmt.Sprintf("%s=%s", w.suffixes[gi], strings.Join(ns, ",")))
		}
		sort.Strings(ms)
		return strings.Join(parts, " ") + " map " + strings.Join(ms, " ")
	}
}

// runs is how many random cases a property test draws: full, or short
// under go test -short.
func runs(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

// randomCase draws a random world and a request for it from seed on the
// given PCG stream, and returns the generator for any further draws. It
// notes the request's group suffixes in the world for bfRender.
func randomCase(t testing.TB, seed int, stream uint64) (*rand.Rand, *world, *Request) {
	r := rand.New(rand.NewPCG(uint64(seed), stream))
	w := randomWorld(t, r)
	req := randomRequest(r, w)
	for _, g := range req.Groups {
		w.suffixes = append(w.suffixes, g.Suffix)
	}
	return r, w, req
}

// randomWorld builds 1–3 trees of 1–4 providers plus 0–2 sharing roots.
func randomWorld(t testing.TB, r *rand.Rand) *world {
	classes := []string{"VCPU", "MEMORY_MB", "DISK_GB"}
	traits := []string{"CUSTOM_T1", "CUSTOM_T2", "CUSTOM_T3"}
	aggs := []string{"G1", "G2"}
	var provs []tp
	pick := func(from []string, p float64) []string {
		var out []string
		for _, x := range from {
			if r.Float64() < p {
				out = append(out, x)
			}
		}
		return out
	}
	randInv := func() []Inventory {
		var out []Inventory
		for _, c := range classes {
			if r.Float64() < 0.55 {
				total := 2 + r.IntN(8)
				inv := Inventory{Class: c, Inventory: placement.Inventory{
					Total: total, Reserved: []int{0, 0, 0, 1}[r.IntN(4)], MinUnit: []int{1, 1, 1, 2}[r.IntN(4)],
					MaxUnit: total - r.IntN(2)*r.IntN(total), StepSize: []int{1, 1, 1, 2}[r.IntN(4)],
					AllocationRatio: []float64{1, 1, 1.5}[r.IntN(3)],
				}, Used: int64(r.IntN(2) * r.IntN(3))}
				out = append(out, inv)
			}
		}
		return out
	}
	n := 0
	name := func() string { n++; return fmt.Sprintf("P%d", n) }
	for tree := 0; tree < 1+r.IntN(3); tree++ {
		var members []string
		size := 1 + r.IntN(4)
		for i := 0; i < size; i++ {
			p := tp{name: name(), inv: randInv(), traits: pick(traits, 0.3), aggs: pick(aggs, 0.25)}
			if i > 0 {
				p.parent = members[r.IntN(len(members))]
			}
			if r.Float64() < 0.1 {
				p.traits = append(p.traits, SharingTrait)
			}
			members = append(members, p.name)
			provs = append(provs, p)
		}
	}
	for i := 0; i < r.IntN(3); i++ {
		p := tp{name: name(), inv: randInv(), traits: append(pick(traits, 0.3), SharingTrait), aggs: pick(aggs, 0.6)}
		provs = append(provs, p)
	}
	return newWorld(t, provs...)
}

// randomRequest builds a request directly (the parser is tested apart).
func randomRequest(r *rand.Rand, w *world) *Request {
	classes := []string{"VCPU", "MEMORY_MB", "DISK_GB"}
	traits := []string{"CUSTOM_T1", "CUSTOM_T2", "CUSTOM_T3", SharingTrait}
	aggs := []string{aggUUID("G1"), aggUUID("G2")}
	req := &Request{NestedAware: r.Float64() < 0.7}
	resources := func() []Resource {
		var out []Resource
		for _, c := range classes {
			if r.Float64() < 0.4 {
				out = append(out, Resource{Class: c, Amount: int64(1 + r.IntN(3))})
			}
		}
		if len(out) == 0 {
			out = append(out, Resource{Class: classes[r.IntN(3)], Amount: int64(1 + r.IntN(2))})
		}
		return out
	}
	filters := func(g *Group) {
		if r.Float64() < 0.3 {
			set := []string{traits[r.IntN(len(traits))]}
			if r.Float64() < 0.4 {
				set = append(set, traits[r.IntN(len(traits))])
			}
			g.Required = append(g.Required, set)
		}
		if r.Float64() < 0.2 {
			g.Forbidden = []string{traits[r.IntN(len(traits))]}
		}
		if r.Float64() < 0.2 {
			g.MemberOf = [][]string{{aggs[r.IntN(2)]}}
			if r.Float64() < 0.3 {
				g.MemberOf[0] = aggs
			}
		}
		if r.Float64() < 0.15 {
			g.ForbiddenAggs = []string{aggs[r.IntN(2)]}
		}
		if r.Float64() < 0.1 {
			g.InTree = w.snap.Provider(int32(r.IntN(w.snap.Len()))).UUID
		}
	}
	if r.Float64() < 0.7 {
		g := Group{Resources: resources()}
		filters(&g)
		req.Groups = append(req.Groups, g)
	}
	nsuff := r.IntN(3)
	if len(req.Groups) == 0 && nsuff == 0 {
		nsuff = 1
	}
	var suffixes []string
	for i := 0; i < nsuff; i++ {
		g := Group{Suffix: fmt.Sprint(i + 1), Resources: resources()}
		filters(&g)
		req.Groups = append(req.Groups, g)
		suffixes = append(suffixes, g.Suffix)
	}
	// a resourceless group tied by same_subtree
	if len(suffixes) > 0 && r.Float64() < 0.25 {
		g := Group{Suffix: "X"}
		filters(&g)
		if r.Float64() < 0.7 {
			g.Required = append(g.Required, []string{traits[r.IntN(len(traits))]})
		}
		req.Groups = append(req.Groups, g)
		req.SameSubtree = append(req.SameSubtree, []string{"X", suffixes[r.IntN(len(suffixes))]})
	}
	if len(suffixes) > 1 && r.Float64() < 0.4 {
		req.SameSubtree = append(req.SameSubtree, suffixes)
	}
	req.GroupPolicy = []string{"none", "isolate", ""}[r.IntN(3)]
	if r.Float64() < 0.15 {
		req.RootRequired = []string{traits[r.IntN(len(traits))]}
	}
	if r.Float64() < 0.15 {
		req.RootForbidden = []string{traits[r.IntN(len(traits))]}
	}
	return req
}

func TestGenerate_MatchesBruteForce(t *testing.T) {
	t.Parallel()
	iterations := runs(3000, 300)
	nonEmpty := 0
	for seed := 0; seed < iterations; seed++ {
		_, w, req := randomCase(t, seed, 42)
		res := generate(t, w.snap, req, Options{})
		got := w.shows(res, true)
		b := &bfWorld{ps: w.data, byID: map[int64]*ProviderData{}, req: req, snapN: w.snap.Nested}
		for i := range b.ps {
			b.byID[b.ps[i].ID] = &b.ps[i]
		}
		want := b.enumerate(bfRender(w))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: world %+v\nrequest %+v\n got %q\nwant %q", seed, w.data, *req, got, want)
		}
		// The walk narrowed by member_of, which only large clouds get,
		// on every case.
		var narrowed Options
		NarrowAlways(&narrowed)
		if got := w.shows(generate(t, w.snap, req, narrowed), true); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d, walk narrowed by member_of: world %+v\nrequest %+v\n got %q\nwant %q", seed, w.data, *req, got, want)
		}
		// The lookahead, which only walks lost in dead ends get, before
		// every group, in both orders.
		for _, strategy := range []Strategy{DepthFirst, BreadthFirst} {
			ahead := Options{Strategy: strategy}
			LookaheadAlways(&ahead)
			if got := w.shows(generate(t, w.snap, req, ahead), true); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, lookahead before every group, strategy %v: world %+v\nrequest %+v\n got %q\nwant %q", seed, strategy, w.data, *req, got, want)
			}
			// same_subtree's options narrowed, which only wide trees get.
			subtrees := Options{Strategy: strategy}
			SubtreeAlways(&subtrees)
			if got := w.shows(generate(t, w.snap, req, subtrees), true); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, same_subtree options narrowed, strategy %v: world %+v\nrequest %+v\n got %q\nwant %q", seed, strategy, w.data, *req, got, want)
			}
		}
		checkInvariants(t, w, req, res)
		if len(got) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < iterations/5 {
		t.Errorf("only %d of %d random cases had candidates: generator of cases too strict", nonEmpty, iterations)
	}
}

// checkInvariants: every provider of an allocation has a summary; every
// suffixed group maps exactly one provider; summaries below 1.29 are the
// allocated providers only.
func checkInvariants(t *testing.T, w *world, req *Request, res *Result) {
	t.Helper()
	inSummary := map[int32]bool{}
	for _, p := range res.Summaries {
		inSummary[p] = true
	}
	allocated := map[int32]bool{}
	for _, ar := range res.Requests {
		for _, a := range ar.Allocations {
			allocated[a.Provider] = true
			if !inSummary[a.Provider] {
				t.Fatalf("provider %s allocated but not summarised", w.snap.Provider(a.Provider).UUID)
			}
		}
		if len(ar.Mappings) != len(req.Groups) {
			t.Fatalf("mappings %v for %d groups", ar.Mappings, len(req.Groups))
		}
		for i, m := range ar.Mappings {
			if m.Suffix != req.Groups[i].Suffix || (m.Suffix != "" && len(m.Providers) != 1) {
				t.Fatalf("bad mapping %+v", m)
			}
		}
	}
	if !req.NestedAware && len(allocated) != len(inSummary) {
		t.Fatalf("below 1.29 summaries %v != allocated %v", inSummary, allocated)
	}
}

// TestGenerate_LimitIsPrefix: with a limit and no randomisation the result
// is the prefix of the unlimited one, and the cap counts distinct results.
func TestGenerate_LimitIsPrefix(t *testing.T) {
	t.Parallel()
	for seed := 0; seed < 500; seed++ {
		r, w, req := randomCase(t, seed, 7)
		all := generate(t, w.snap, req, Options{})
		if len(all.Requests) < 2 {
			continue
		}
		lim := *req
		lim.Limit = 1 + r.IntN(len(all.Requests))
		got := generate(t, w.snap, &lim, Options{})
		if !reflect.DeepEqual(got.Requests, all.Requests[:lim.Limit]) {
			t.Fatalf("seed %d: limit %d is not a prefix", seed, lim.Limit)
		}
		if req.NestedAware || !w.snap.Nested {
			capped := generate(t, w.snap, req, Options{MaxCandidates: lim.Limit})
			if !reflect.DeepEqual(capped.Requests, all.Requests[:lim.Limit]) {
				t.Fatalf("seed %d: cap %d is not a prefix", seed, lim.Limit)
			}
		}
	}
}

// generateTraced is generate that also returns the anchor of every
// candidate generated (hidden ones included), in order.
func generateTraced(tb testing.TB, s *Snapshot, req *Request, opt Options) (*Result, []int32) {
	var anchors []int32
	SetTrace(&opt, func(a int32) { anchors = append(anchors, a) })
	return generate(tb, s, req, opt), anchors
}

// checkRoundRobin: the anchors come in rounds, each ascending, and every
// round's anchors are among the previous round's (a root leaves the
// rotation only when it is exhausted, and never comes back).
func checkRoundRobin(anchors []int32) bool {
	var prev, cur []int32
	for i, a := range anchors {
		if i > 0 && a <= anchors[i-1] {
			prev, cur = cur, nil
		}
		if prev != nil && !slices.Contains(prev, a) {
			return false
		}
		cur = append(cur, a)
	}
	return true
}

// TestGenerate_BreadthFirstMatchesDepthFirst: uncapped, breadth-first
// gives the same candidates as depth-first (checked against the brute
// force above) in round-robin order over the roots; capped or limited,
// it gives the prefix of its own uncapped order.
func TestGenerate_BreadthFirstMatchesDepthFirst(t *testing.T) {
	t.Parallel()
	// Most random worlds have candidates on one root only: go on until
	// enough of them have several.
	target := runs(1000, 100)
	multiRoot, seed := 0, 0
	for ; multiRoot < target && seed < 40*target; seed++ {
		r, w, req := randomCase(t, seed, 43)
		df, dfAnchors := generateTraced(t, w.snap, req, Options{})
		bf, bfAnchors := generateTraced(t, w.snap, req, Options{Strategy: BreadthFirst})
		if got, want := w.shows(bf, true), w.shows(df, true); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: request %+v\nbreadth-first %q\n  depth-first %q", seed, *req, got, want)
		}
		if !reflect.DeepEqual(bf.Summaries, df.Summaries) {
			t.Fatalf("seed %d: summaries %v, depth-first %v", seed, bf.Summaries, df.Summaries)
		}
		if len(bfAnchors) != len(dfAnchors) || !checkRoundRobin(bfAnchors) {
			t.Fatalf("seed %d: breadth-first anchors %v are not round robin (depth-first %v)", seed, bfAnchors, dfAnchors)
		}
		if !slices.IsSorted(dfAnchors) {
			t.Fatalf("seed %d: depth-first anchors %v out of order", seed, dfAnchors)
		}
		if len(slices.Compact(slices.Clone(dfAnchors))) > 1 {
			multiRoot++
		}
		if len(bfAnchors) < 2 {
			continue
		}
		n := 1 + r.IntN(len(bfAnchors))
		capped, cappedAnchors := generateTraced(t, w.snap, req, Options{Strategy: BreadthFirst, MaxCandidates: n})
		if !reflect.DeepEqual(cappedAnchors, bfAnchors[:n]) {
			t.Fatalf("seed %d: cap %d anchors %v, not a prefix of %v", seed, n, cappedAnchors, bfAnchors)
		}
		if req.NestedAware || !w.snap.Nested { // else hidden candidates count for the cap
			if !reflect.DeepEqual(capped.Requests, bf.Requests[:n]) {
				t.Fatalf("seed %d: cap %d is not a prefix", seed, n)
			}
		}
		if len(bf.Requests) > 1 {
			lim := *req
			lim.Limit = 1 + r.IntN(len(bf.Requests))
			got := generate(t, w.snap, &lim, Options{Strategy: BreadthFirst})
			if !reflect.DeepEqual(got.Requests, bf.Requests[:lim.Limit]) {
				t.Fatalf("seed %d: limit %d is not a prefix", seed, lim.Limit)
			}
		}
	}
	if multiRoot < target {
		t.Errorf("only %d of %d random cases had candidates on several roots", multiRoot, seed)
	}
}
