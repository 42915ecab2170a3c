package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// Options are the configuration knobs of the generator.
type Options struct {
	// Randomize is [placement] randomize_allocation_candidates: with a
	// limit, return a uniform random sample instead of the first ones; the
	// list is shuffled in any case.
	Randomize bool
	// MaxCandidates caps generation: it stops once that many distinct
	// candidates exist, and limit and Randomize then apply to those. Zero
	// or negative means unlimited; MaxCandidatesFromConfig turns [placement]
	// max_allocation_candidates into this.
	MaxCandidates int
	// Strategy is [placement] allocation_candidates_generation_strategy:
	// the order in which the roots' candidates are generated, which
	// decides what a cap or a limit keeps.
	Strategy Strategy
	// Rand is the random source for Randomize; nil uses the global one.
	Rand *rand.Rand
	// MemoryLimit is [placement] allocation_candidates_memory_limit_mb in
	// bytes: the most memory one generation may accumulate (candidates,
	// their allocations and mappings, duplicate keys, per-group option
	// rows), as estimated by Generate; Stream does not keep the
	// candidates, and counts the rest. Zero or negative means unlimited.
	MemoryLimit int64
	// trace, for tests, is told the anchor of every candidate generated,
	// in generation order.
	trace func(anchor int32)
	// narrowAlways, for tests, makes narrow narrow the walk whatever the
	// size of the aggregates and the limit.
	narrowAlways bool
	// lookaheadAlways, for tests, makes place check fits before every
	// group, not only after lookaheadAfter steps without a candidate.
	lookaheadAlways bool
	// subtreeAlways, for tests, makes subtreeOnly narrow the options of
	// every group of a same_subtree constraint, however few they are and
	// however many stay.
	subtreeAlways bool
}

// Strategy is the order of generation across anchors (root providers).
type Strategy uint8

const (
	// DepthFirst generates every candidate of the first viable root, then
	// every candidate of the next one, and so on (the default).
	DepthFirst Strategy = iota
	// BreadthFirst takes one candidate from each viable root in turn,
	// round robin, in ascending root order; a root leaves the rotation
	// once it has no candidate left. A cap then spreads the answer over
	// as many hosts as it allows.
	BreadthFirst
)

// StrategyFromConfig maps [placement]
// allocation_candidates_generation_strategy ("depth-first", the default,
// or "breadth-first") to a Strategy; anything else is DepthFirst, the
// config loader having rejected it already.
func StrategyFromConfig(s string) Strategy {
	if s == "breadth-first" {
		return BreadthFirst
	}
	return DepthFirst
}

// MaxCandidatesFromConfig maps [placement] max_allocation_candidates to
// Options.MaxCandidates. Upstream master adds a candidate and then stops
// if `max >= 0 and len(candidates) >= max` (spec 07 §6.5), so a negative
// value (the default -1) means no cap, and 0 stops after the first
// candidate, exactly like 1.
func MaxCandidatesFromConfig(v int) int {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return 1
	}
	return v
}

// MsgMemoryLimit is the message of the error Generate returns when the
// candidates would need more memory than Options.MemoryLimit allows.
const MsgMemoryLimit = "The allocation candidates for this request would need more than the %d MiB " +
	"one request may use ([placement] allocation_candidates_memory_limit_mb). " +
	"Narrow the request or pass a limit."

// lookaheadAfter is how many steps of the walk under one anchor may pass
// without a candidate before place starts to check, before each group,
// that the groups left can still fit beside those placed (fits). A walk
// that keeps finding candidates never pays for the check; one lost in
// dead ends (the first group took the one provider a later group needs,
// and the groups between try every assignment to the others) is cut short.
const lookaheadAfter = 1 << 12

// checkEvery is how many steps of the walk pass between two looks at the
// context: often enough to stop within a millisecond or so, rarely enough
// not to show in the hot loops.
const checkEvery = 4096

// Allocation is an amount of one class on one provider.
type Allocation struct {
	Provider int32 // index in the snapshot (Snapshot.Provider)
	Class    string
	Amount   int64
}

// Mapping lists the providers that satisfied one request group.
type Mapping struct {
	Suffix    string
	Providers []int32 // ascending index
}

// AllocationRequest is one candidate: allocations sorted by provider and
// then class, and one mapping per request group in group order.
type AllocationRequest struct {
	Allocations []Allocation
	Mappings    []Mapping
}

// Result is the outcome of Generate.
type Result struct {
	Requests []AllocationRequest
	// Summaries lists the providers that get a provider summary, ascending
	// index (spec 07 §6.7).
	Summaries []int32
}

// pair is a provider usable for a group under an anchor (a root).
type pair struct{ anchor, prov int32 }

func cmpPair(a, b pair) int {
	if a.anchor != b.anchor {
		return int(a.anchor - b.anchor)
	}
	return int(a.prov - b.prov)
}

// rgroup is a Group resolved against a snapshot.
type rgroup struct {
	suffix    string
	suffixed  bool
	classes   []int32
	amounts   []int64
	required  [][]int32
	forbidden []int32
	memberOf  [][]int32
	forbAggs  []int32
	inTree    int32 // root index, -1 for none
	// shared holds per slot (one per class for the unsuffixed group, one
	// for a suffixed group) the sharing providers usable under other trees;
	// spos is the walk's position in each.
	shared [][]pair
	spos   []int
	// per-anchor options, rebuilt for each anchor
	cand    [][]int32 // per slot
	opts    []int32   // suffixed: providers; unsuffixed: rows of len(classes) providers
	nopts   int
	subtree []int   // same_subtree constraints to check once this group is placed
	early   []int   // same_subtree constraints it is in but does not complete
	only    []int32 // subtreeOnly's answer
	// dfs is opts' places in the depth-first order of dfsOf's tree, sorted,
	// and dfsOut its options from other trees (dfsPositions); dfs is nil
	// when not known.
	dfs, dfsOut []int32
	dfsOf       int32
}

// ask is what one group asks of one class under the current anchor: an
// amount from one of provs (ascending).
type ask struct {
	provs  []int32
	amount int64
}

type contrib struct {
	prov, class int32
	amount      int64
}

type generator struct {
	// others is set when the request has groups besides the one(s) being
	// generated (explain builds one group's options alone).
	others  bool
	s       *Snapshot
	req     *Request
	opt     Options
	groups  []rgroup
	allowed []bool // nil: every root
	// narrowed: the roots the walk visits, nil for every allowed one (see
	// narrow).
	narrowed []bool
	legacy   bool

	// classes lists the classes that two or more groups ask for, and
	// suffixed counts the suffixed groups (fits); asks and union are fits'
	// scratch.
	classes  []int32
	suffixed int
	asks     []ask
	union    []int32
	// candOf is the anchor whose options the groups' cand lists hold (in
	// a resumed breadth-first turn, often another one); leafStep is the
	// step of the anchor's last candidate, or of its start (see
	// lookaheadAfter).
	candOf   int32
	leafStep uint32

	stack  []contrib
	chosen []int32 // suffixed: provider; unsuffixed: option index
	pos    []int32 // option index chosen per group
	anchor int32   // the root being walked
	seen   map[string]struct{}

	// upstream is the unsuffixed group's tree order (offeredUnder),
	// built on first use.
	upstream *upstreamTrees
	count    int
	offered  int // candidates offered to the sample (Randomize with a limit)
	results  []AllocationRequest

	// emit, when set (Stream), is handed each candidate instead of
	// results; emitted counts them and used marks the providers (below
	// 1.29) or roots (from 1.29) they allocate from.
	emit    func(AllocationRequest) error
	emitted int
	used    idSet

	// stop unwinds the walk: set with done when generation is over, or
	// with paused when breadth-first ends a root's turn after one
	// candidate. resuming makes place descend along pos again and
	// continue after the candidate found there.
	stop, done, paused, resuming bool
	// turns pauses the walk after every new candidate (breadth-first
	// while more than one root is in the rotation); turnData keeps the
	// rotation's roots (see turn).
	turns    bool
	turnData []int32

	ctx   context.Context
	steps uint32
	mem   int64 // estimated bytes accumulated so far
	err   error // why generation stopped early, if it did

	allocArena []Allocation
	provArena  []int32
	mapArena   []Mapping
	keyBuf     []byte
	idx        []int
	// orders holds the depth-first order of the trees whose same_subtree
	// options were narrowed (subtreeOnly), by root.
	orders map[int32]*treeOrder
}

// Generate returns the allocation candidates for req over s (spec 07 §6).
// Names unknown to the snapshot simply match nothing: the caller has
// already rejected names unknown to the database.
//
// Generation is bounded: it stops with ctx.Err() once ctx is done, and
// with an Invalid *placement.Error coded CodeCandidatesMemoryLimit once
// the estimated memory of what it has accumulated exceeds
// opt.MemoryLimit. The estimate counts the arrays the generator allocates
// (exact sizes of its arenas and result slice, and of each group's option
// rows) plus the duplicate-detection keys, so it is deterministic.
func Generate(ctx context.Context, s *Snapshot, req *Request, opt Options) (*Result, error) {
	g := &generator{s: s, req: req, opt: opt, legacy: !req.NestedAware && s.Nested, ctx: ctx}
	if err := g.run(); err != nil {
		return nil, err
	}
	res := g.finish()
	sums, err := limitedSummaries(ctx, s, req, opt, len(res.Requests), res.Summaries)
	if err != nil {
		return nil, err
	}
	res.Summaries = sums
	return res, nil
}

// limitedSummaries applies upstream's rule for the summaries of a list
// that limit cut below 1.29 (kept candidates, whose summaries are kept):
// the summaries of every candidate, not only of those kept, restricted to
// the trees of those kept. (From 1.29 every provider of those trees has a
// summary anyway.) It learns what every candidate allocates from by
// generating them all again, without keeping them: a price only requests
// at old microversions pay, and only when limit cut something.
func limitedSummaries(ctx context.Context, s *Snapshot, req *Request, opt Options, kept int, sums []int32) ([]int32, error) {
	if req.NestedAware || req.Limit <= 0 || kept < req.Limit {
		return sums, nil
	}
	all := *req
	all.Limit = 0
	opt.Randomize = false
	n := 0
	every, err := Stream(ctx, s, &all, opt, func(AllocationRequest) error { n++; return nil })
	if err != nil || n <= kept {
		return sums, err
	}
	roots := make(map[int32]bool, len(sums))
	for _, p := range sums {
		roots[s.Provider(p).Root] = true
	}
	out := make([]int32, 0, len(sums))
	for _, p := range every {
		if roots[s.Provider(p).Root] {
			out = append(out, p)
		}
	}
	return out, nil
}

// Streams reports whether Stream hands out the candidates of opt as it
// finds them: the answer is the generation order unless Randomize
// shuffles or samples it, which needs the whole set.
func Streams(opt Options) bool { return !opt.Randomize }

// Stream generates the candidates Generate would return, in the same
// order, and hands each to emit instead of keeping it; it then returns
// Result.Summaries. The candidate emit is given, and everything it points
// to, is only valid during the call. An error from emit ends generation
// and is returned as it is.
//
// When Streams(opt) holds, what generation holds stays bounded whatever
// the number of candidates: the memory budget counts the groups' option
// rows, the duplicate keys and the breadth-first turns, but not the
// candidates, which are not kept. Otherwise Stream generates the whole
// set with Generate and then hands it out.
func Stream(ctx context.Context, s *Snapshot, req *Request, opt Options, emit func(AllocationRequest) error) ([]int32, error) {
	if !Streams(opt) {
		res, err := Generate(ctx, s, req, opt)
		if err != nil {
			return nil, err
		}
		for _, ar := range res.Requests {
			if err := emit(ar); err != nil {
				return nil, err
			}
		}
		return res.Summaries, nil
	}
	g := &generator{s: s, req: req, opt: opt, legacy: !req.NestedAware && s.Nested, ctx: ctx, emit: emit}
	if err := g.run(); err != nil {
		return nil, err
	}
	if g.emitted == 0 {
		return nil, nil
	}
	return limitedSummaries(ctx, s, req, opt, g.emitted, g.summaries(g.used.sorted()))
}

// run generates; what it found is in results (or was emitted).
func (g *generator) run() error {
	if err := g.ctx.Err(); err != nil {
		return err
	}
	if !g.resolve() {
		return nil
	}
	for i := range g.groups {
		if !g.prepare(&g.groups[i]) || !g.narrow(&g.groups[i]) {
			return nil
		}
	}
	if g.opt.Strategy == BreadthFirst {
		g.walkBreadthFirst()
	} else {
		g.walk()
	}
	return g.err
}

// tick counts one step of the walk and, every checkEvery steps, stops
// generation if the request's context is done. It reports whether
// generation should stop.
func (g *generator) tick() bool {
	g.steps++
	if g.steps%checkEvery == 0 {
		g.checkContext() // kept out of tick so that tick inlines
	}
	return g.stop
}

func (g *generator) checkContext() {
	if err := g.ctx.Err(); err != nil && g.err == nil {
		g.fail(err)
	}
}

// charge adds n bytes to the memory estimate and stops generation once it
// exceeds the budget.
func (g *generator) charge(n int) {
	g.mem += int64(n)
	if g.opt.MemoryLimit > 0 && g.mem > g.opt.MemoryLimit && g.err == nil {
		g.fail(placement.E(placement.Invalid, MsgMemoryLimit, g.opt.MemoryLimit>>20).WithCode(placement.CodeCandidatesMemoryLimit))
	}
}

func (g *generator) fail(err error) {
	g.err = err
	g.end()
}

// end stops generation for good.
func (g *generator) end() { g.stop, g.done = true, true }

// Sizes of what the generator accumulates, for the memory estimate.
const (
	sizeAllocation = int(unsafe.Sizeof(Allocation{}))
	sizeMapping    = int(unsafe.Sizeof(Mapping{}))
	sizeRequest    = int(unsafe.Sizeof(AllocationRequest{}))
	// sizeSeenEntry is the map's own share of one duplicate key (slot,
	// control byte, string header, load-factor slack); the key's bytes
	// are counted on top.
	sizeSeenEntry = 48
)

func (g *generator) ids(index func(string) (int32, bool), names []string) []int32 {
	var out []int32
	for _, n := range names {
		if id, ok := index(n); ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// idSets is ids for each of the any-of sets; false when a set has no
// known name, as then no provider can match it.
func (g *generator) idSets(index func(string) (int32, bool), sets [][]string) ([][]int32, bool) {
	var out [][]int32
	for _, set := range sets {
		ids := g.ids(index, set)
		if len(ids) == 0 {
			return nil, false
		}
		out = append(out, ids)
	}
	return out, true
}

// resolve maps names to snapshot ids; false means nothing can match.
func (g *generator) resolve() bool {
	s, req := g.s, g.req
	if len(req.RootRequired) > 0 || len(req.RootForbidden) > 0 {
		required := g.ids(s.traitIndex, req.RootRequired)
		if len(required) < len(req.RootRequired) {
			return false
		}
		forbidden := g.ids(s.traitIndex, req.RootForbidden)
		g.allowed = make([]bool, s.Len())
		any := false
		for i := range s.Len() {
			p := s.Provider(int32(i))
			if p.Parent >= 0 || hasAny(p.traits, forbidden) {
				continue
			}
			ok := true
			for _, t := range required {
				if _, found := slices.BinarySearch(p.traits, t); !found {
					ok = false
					break
				}
			}
			g.allowed[i] = ok
			any = any || ok
		}
		if !any {
			return false
		}
	}
	g.groups = make([]rgroup, len(req.Groups))
	for i, grp := range req.Groups {
		rg := &g.groups[i]
		rg.suffix, rg.suffixed, rg.inTree = grp.Suffix, grp.Suffix != "", -1
		for _, r := range grp.Resources {
			c, ok := s.classIndex(r.Class)
			if !ok {
				return false
			}
			rg.classes = append(rg.classes, c)
			rg.amounts = append(rg.amounts, r.Amount)
		}
		var ok bool
		if rg.required, ok = g.idSets(s.traitIndex, grp.Required); !ok {
			return false
		}
		rg.forbidden = g.ids(s.traitIndex, grp.Forbidden)
		if rg.memberOf, ok = g.idSets(s.aggIndex, grp.MemberOf); !ok {
			return false
		}
		rg.forbAggs = g.ids(s.aggIndex, grp.ForbiddenAggs)
		if grp.InTree != "" {
			p, ok := s.ProviderByUUID(grp.InTree)
			if !ok {
				return false // an unknown in_tree empties the whole result
			}
			rg.inTree = s.Provider(p).Root
		}
	}
	for k, set := range req.SameSubtree {
		last := -1
		for i := range g.groups {
			if slices.Contains(set, g.groups[i].suffix) {
				if last >= 0 {
					g.groups[last].early = append(g.groups[last].early, k)
				}
				last = i
			}
		}
		if last >= 0 {
			g.groups[last].subtree = append(g.groups[last].subtree, k)
		}
	}
	n := len(g.groups)
	buf := make([]int32, 2*n)
	g.chosen, g.pos = buf[:n:n], buf[n:]
	// The classes two or more groups ask for: one group's options fit it
	// alone, so fits has nothing to check on the others.
	var seen []int32
	for gi := range g.groups {
		if g.groups[gi].suffixed {
			g.suffixed++
		}
		for _, c := range g.groups[gi].classes {
			if !slices.Contains(seen, c) {
				seen = append(seen, c)
			} else if !slices.Contains(g.classes, c) {
				g.classes = append(g.classes, c)
			}
		}
	}
	return true
}

func (g *generator) rootAllowed(r int32) bool { return g.allowed == nil || g.allowed[r] }

// narrowPays reports whether narrowing the walk to the roots of n
// aggregate members costs less than the walk it saves. Narrowing costs
// about 6 ns a member; the walk rejects a root in about 75 ns. A walk that
// stops after k candidates (a limit without randomisation, or the cap)
// visits about k·roots/n roots, most of them rejected; one that does not
// stop visits them all. Narrowing never pays past a quarter of the roots.
func (g *generator) narrowPays(n int) bool {
	roots := len(g.s.roots)
	if n > roots/4 {
		return false
	}
	k := 0
	if g.req.Limit > 0 && !g.opt.Randomize {
		k = g.req.Limit
	}
	if c := g.opt.MaxCandidates; c > 0 && (k == 0 || c < k) {
		k = c
	}
	return k == 0 || int64(k)*int64(roots)*12 > int64(n)*int64(n)
}

// walks reports whether the walk visits root r as an anchor.
func (g *generator) walks(r int32) bool {
	return g.rootAllowed(r) && (g.narrowed == nil || g.narrowed[r])
}

// narrow narrows the roots the walk visits to those under which rg can
// find a provider, when its member_of picks out a part of the cloud (an
// availability zone's aggregate) and that pays off (see narrowPays); false
// if there are none. Each of rg's providers, or for an unsuffixed group
// its anchor, must be in one of the aggregates of the first member_of set.
// So under anchor a, rg needs a provider in one of them whose root is a,
// or a sharing one that a is an anchor of; or a itself is in one, and is
// then such a provider too. An unsuffixed group without resources needs no
// provider and is left alone. Unlike root_required's allowed roots, the
// narrowing is the walk's alone: upstream's order of the trees
// (upstreamTreesOf) does not see it.
func (g *generator) narrow(rg *rgroup) bool {
	if len(rg.memberOf) == 0 || (!rg.suffixed && len(rg.classes) == 0) {
		return true
	}
	s := g.s
	n := 0
	for _, agg := range rg.memberOf[0] {
		n += len(s.members[agg])
	}
	if !g.narrowPays(n) && !g.opt.narrowAlways {
		return true
	}
	keep := make([]bool, s.Len())
	g.charge(len(keep))
	found := false
	mark := func(r int32) {
		if g.walks(r) {
			keep[r], found = true, true
		}
	}
	for _, agg := range rg.memberOf[0] {
		for _, p := range s.members[agg] {
			mark(s.Provider(p).Root)
			for _, a := range s.anchors(p) {
				mark(a)
			}
		}
	}
	g.narrowed = keep
	return found
}

func traitsOK(traits []int32, required [][]int32) bool {
	for _, set := range required {
		if !hasAny(traits, set) {
			return false
		}
	}
	return true
}

// individually reports whether p itself passes the group's trait and
// aggregate filters (suffixed groups judge the provider alone).
func (rg *rgroup) individually(p *Provider) bool {
	return traitsOK(p.traits, rg.required) && !hasAny(p.traits, rg.forbidden) &&
		traitsOK(p.aggs, rg.memberOf) && !hasAny(p.aggs, rg.forbAggs)
}

// sharedPairs lists, for one slot of a group, the sharing providers usable
// under anchors other than their own root (spec 07 §6.3, §6.4), sorted by
// anchor then provider. Own-tree providers are found per anchor in walk.
func (g *generator) sharedPairs(ok func(s *Provider, anchor int32) bool, provider func(s *Provider) bool) []pair {
	var list []pair
	for _, i := range g.s.sharing {
		sp := g.s.Provider(i)
		if !provider(sp) {
			continue
		}
		for _, a := range g.s.anchors(i) {
			if a != sp.Root && g.rootAllowed(a) && ok(sp, a) {
				list = append(list, pair{a, i})
			}
		}
	}
	slices.SortFunc(list, cmpPair)
	return list
}

// prepare resolves each group's sharing options; false means a group can
// never be satisfied.
func (g *generator) prepare(rg *rgroup) bool {
	anyAnchor := func(*Provider, int32) bool { return true }
	switch {
	case rg.suffixed && len(rg.classes) > 0:
		for _, c := range rg.classes {
			if len(g.s.byClass[c]) == 0 {
				return false
			}
		}
		rg.shared = [][]pair{g.sharedPairs(anyAnchor, func(p *Provider) bool { return g.suffixedFits(rg, p) })}
	case rg.suffixed:
		// A resourceless group (1.36+). Quirks A1 and A2: without a
		// positive constraint it matches nothing, and in_tree is ignored.
		if len(rg.required) == 0 && len(rg.memberOf) == 0 {
			return false
		}
		rg.shared = [][]pair{g.sharedPairs(anyAnchor, rg.individually)}
	default:
		rg.shared = make([][]pair, len(rg.classes))
		for k, c := range rg.classes {
			if len(g.s.byClass[c]) == 0 {
				return false
			}
			if rg.inTree >= 0 {
				continue // in_tree excludes sharing providers of other trees
			}
			rg.shared[k] = g.sharedPairs(
				func(p *Provider, a int32) bool { return g.unsuffixedAggsOK(rg, p, a) },
				func(p *Provider) bool {
					return p.fits(c, rg.amounts[k]) && !hasAny(p.traits, rg.forbidden) && traitsOK(p.aggs, rg.memberOf)
				})
		}
	}
	rg.spos = make([]int, len(rg.shared))
	rg.cand = make([][]int32, len(rg.shared))
	return true
}

// suffixedFits: p alone satisfies a suffixed group with resources.
func (g *generator) suffixedFits(rg *rgroup, p *Provider) bool {
	if rg.inTree >= 0 && p.Root != rg.inTree {
		return false
	}
	for k, c := range rg.classes {
		if !p.fits(c, rg.amounts[k]) {
			return false
		}
	}
	return rg.individually(p)
}

// ownOK: p of anchor a's own tree may serve slot k of group rg.
func (g *generator) ownOK(rg *rgroup, k int, p *Provider, a int32) bool {
	switch {
	case rg.suffixed && len(rg.classes) > 0:
		return g.suffixedFits(rg, p)
	case rg.suffixed:
		return rg.individually(p)
	}
	if rg.inTree >= 0 && a != rg.inTree {
		return false
	}
	// Forbidden traits are judged on each contributing provider.
	return p.fits(rg.classes[k], rg.amounts[k]) && !hasAny(p.traits, rg.forbidden) && g.unsuffixedAggsOK(rg, p, a)
}

// unsuffixedAggsOK: a provider passes member_of if it or its anchor is in
// the aggregates; forbidden aggregates exclude it if either is in one.
func (g *generator) unsuffixedAggsOK(rg *rgroup, p *Provider, anchor int32) bool {
	a := g.s.Provider(anchor)
	if len(rg.memberOf) > 0 && !traitsOK(p.aggs, rg.memberOf) && !traitsOK(a.aggs, rg.memberOf) {
		return false
	}
	return !hasAny(p.aggs, rg.forbAggs) && !hasAny(a.aggs, rg.forbAggs)
}

// walk visits the allowed roots in ascending order as anchors and combines
// the groups' options under each (spec 07 §6.5). Stopping early at the
// limit is what keeps limit=N fast on large clouds.
func (g *generator) walk() {
	for _, a := range g.s.roots {
		if g.stop {
			return
		}
		if g.walks(a) && g.options(a) && g.fits(0) {
			g.begin(a)
			g.place(0)
		}
	}
}

// turn is a root in the breadth-first rotation. Its groups' options and
// the position of the last candidate it gave are kept in
// generator.turnData from offset at: per group nopts, the length of opts
// and opts; then pos.
type turn struct {
	anchor int32
	at     int
}

// walkBreadthFirst visits the allowed roots in ascending order, taking
// one candidate from each in turn until all are exhausted (spec 07 §6.8,
// upstream master's breadth-first strategy). A turn ends at the next new
// candidate, so combinations that fail a constraint or duplicate an
// earlier candidate never use up a root's turn. The first round builds
// each root's options once and keeps them for the later rounds.
func (g *generator) walkBreadthFirst() {
	var queue []turn
	g.turns = true
	for _, a := range g.s.roots {
		if g.done {
			return
		}
		if !g.walks(a) || !g.options(a) || !g.fits(0) {
			continue
		}
		g.begin(a)
		g.place(0)
		if !g.paused || g.done {
			continue // exhausted in its first turn, or generation is over
		}
		queue = append(queue, g.saveTurn(a))
		g.paused, g.stop = false, g.done
	}
	for len(queue) > 0 && !g.done {
		t := queue[0]
		queue = queue[1:]
		pos := g.loadTurn(t)
		// The last root left runs to its end without pausing.
		g.turns = len(queue) > 0
		g.resuming = true
		g.place(0)
		if g.paused && !g.done {
			copy(pos, g.pos)
			queue = append(queue, t)
			g.paused, g.stop = false, false
		}
	}
}

// saveTurn keeps the groups' current options and positions for anchor a's
// later turns. Every root's share counts against the memory budget.
func (g *generator) saveTurn(a int32) turn {
	t := turn{anchor: a, at: len(g.turnData)}
	c := cap(g.turnData)
	for gi := range g.groups {
		rg := &g.groups[gi]
		g.turnData = append(g.turnData, int32(rg.nopts), int32(len(rg.opts)))
		g.turnData = append(g.turnData, rg.opts...)
	}
	g.turnData = append(g.turnData, g.pos...)
	g.charge(4*(cap(g.turnData)-c) + int(unsafe.Sizeof(t)))
	return t
}

// loadTurn restores what saveTurn kept and returns where its positions
// are kept. No turn is saved once the first round is over, so the groups'
// options may point into turnData.
func (g *generator) loadTurn(t turn) (pos []int32) {
	d := g.turnData[t.at:]
	for gi := range g.groups {
		rg := &g.groups[gi]
		rg.nopts = int(d[0])
		n := int(d[1])
		rg.opts = d[2 : 2+n : 2+n]
		d = d[2+n:]
	}
	pos = d[:len(g.pos)]
	copy(g.pos, pos)
	g.anchor = t.anchor
	return pos
}

// begin starts the walk under anchor a, whose options were just built.
func (g *generator) begin(a int32) {
	g.anchor, g.leafStep = a, g.steps
}

// options builds every group's options under anchor a; false if a group
// has none, or a same_subtree constraint cannot hold (subtreesFeasible,
// narrowFirstGroups).
func (g *generator) options(a int32) bool {
	g.candOf = a
	tree := g.s.tree(a)
	merged := g.others || len(g.groups) > 1 // see offeredUnder
	for gi := range g.groups {
		rg := &g.groups[gi]
		for k := range rg.shared {
			own := rg.cand[k][:0]
			for _, p := range tree {
				if g.ownOK(rg, k, g.s.Provider(p), a) {
					own = append(own, p)
				}
			}
			// Merge in the sharing providers of other trees, keeping
			// ascending provider order.
			sh := rg.shared[k]
			i := rg.spos[k]
			for i < len(sh) && sh[i].anchor < a {
				i++
			}
			from := len(own)
			for i < len(sh) && sh[i].anchor == a {
				own = append(own, sh[i].prov)
				i++
			}
			rg.spos[k] = i
			if from > 0 && from < len(own) {
				slices.Sort(own)
			}
			rg.cand[k] = own
			if len(own) == 0 {
				return false
			}
		}
		rg.opts, rg.nopts = rg.opts[:0], 0
		if rg.suffixed {
			rg.opts = append(rg.opts, rg.cand[0]...)
			rg.nopts = len(rg.opts)
			continue
		}
		// Odometer over the classes, first class slowest. The rows are a
		// product, so they count against the budget and the context.
		n := len(rg.classes)
		idx := g.idx[:0]
		for k := 0; k < n; k++ {
			idx = append(idx, 0)
		}
		g.idx = idx
		for {
			if g.tick() {
				return false
			}
			row := len(rg.opts)
			if c := cap(rg.opts); c-row < n {
				rg.opts = slices.Grow(rg.opts, n)
				g.charge(4 * (cap(rg.opts) - c))
			}
			for k := 0; k < n; k++ {
				rg.opts = append(rg.opts, rg.cand[k][idx[k]])
			}
			if g.collectiveTraitsOK(rg, rg.opts[row:]) && (!merged || g.offeredUnder(rg, rg.opts[row:], a)) {
				rg.nopts++
			} else {
				rg.opts = rg.opts[:row]
			}
			k := n - 1
			for ; k >= 0; k-- {
				idx[k]++
				if idx[k] < len(rg.cand[k]) {
					break
				}
				idx[k] = 0
			}
			if k < 0 {
				break
			}
		}
		if rg.nopts == 0 {
			return false
		}
	}
	return g.subtreesFeasible(a) && g.narrowFirstGroups(a)
}

// fits reports whether the groups from group from on can still be placed
// beside those placed before it (g.stack, g.chosen), by a necessary
// condition; fits(0) judges an anchor whose options were just built. For a
// class two or more groups ask for, and a set of providers S, the groups
// that may take the class only from S must fit in what S has left: S must
// be able to give their amounts in total, and to host as many of them at
// the smallest amount one of them asks. S is each group's own providers for
// the class and all of them together. Under group_policy=isolate, as many
// suffixed groups as may only use S need as many providers of S that no
// placed suffixed group took. Without it, a request for more than a tree
// has (13 devices of a host with 12) would fail only after place had tried
// every assignment of its identical groups to the identical providers. It
// reads the groups' cand lists, which must be the current anchor's.
func (g *generator) fits(from int) bool {
	for _, c := range g.classes {
		g.asks = g.asks[:0]
		for gi := from; gi < len(g.groups); gi++ {
			rg := &g.groups[gi]
			switch k := slices.Index(rg.classes, c); {
			case k < 0:
			case rg.suffixed: // one slot (cand[0]) for all its classes
				g.asks = append(g.asks, ask{rg.cand[0], rg.amounts[k]})
			default:
				g.asks = append(g.asks, ask{rg.cand[k], rg.amounts[k]})
			}
		}
		if !g.eachSetHolds(func(within []int32, asks []ask) bool { return g.holds(c, within, asks) }) {
			return false
		}
	}
	if !g.req.Isolate() || g.suffixed < 2 {
		return true
	}
	g.asks = g.asks[:0]
	for gi := from; gi < len(g.groups); gi++ {
		if rg := &g.groups[gi]; rg.suffixed {
			g.asks = append(g.asks, ask{provs: rg.cand[0]})
		}
	}
	return g.eachSetHolds(func(within []int32, asks []ask) bool {
		n := 0
		for _, s := range asks {
			if isSubset(s.provs, within) {
				n++
			}
		}
		free := len(within)
		for gi := 0; gi < from; gi++ {
			if g.groups[gi].suffixed && slices.Contains(within, g.chosen[gi]) {
				free--
			}
		}
		return n <= free
	})
}

// eachSetHolds reports whether holds is true of g.asks for their union
// and for each distinct set of providers among them.
func (g *generator) eachSetHolds(holds func(within []int32, asks []ask) bool) bool {
	g.union = g.union[:0]
	for i, s := range g.asks {
		g.union = append(g.union, s.provs...)
		if i > 0 && slices.Equal(s.provs, g.asks[i-1].provs) {
			continue // identical groups: the same check
		}
		if !holds(s.provs, g.asks) {
			return false
		}
	}
	slices.Sort(g.union)
	g.union = slices.Compact(g.union)
	return len(g.asks) < 2 || holds(g.union, g.asks)
}

// holds reports whether the providers within can give class c to the
// asks whose providers all lie within: their amounts in total, and room
// for each of them at the smallest amount one of them asks. Each provider
// can give at most Provider.most, whichever groups its share is split
// among, less what the placed groups took (g.stack).
func (g *generator) holds(c int32, within []int32, asks []ask) bool {
	var total int64
	least, n := int64(math.MaxInt64), 0
	for _, s := range asks {
		if isSubset(s.provs, within) {
			total += s.amount
			least = min(least, s.amount)
			n++
		}
	}
	if n == 0 {
		return true
	}
	var gives, hosts int64
	for _, p := range within {
		most := g.s.Provider(p).most(c)
		for _, x := range g.stack {
			if x.prov == p && x.class == c {
				most -= x.amount
			}
		}
		most = max(most, 0)
		gives += most
		hosts += most / max(least, 1)
	}
	return gives >= total && hosts >= int64(n)
}

// isSubset reports whether every element of the ascending list a is in
// the ascending list b.
func isSubset(a, b []int32) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}

// collectiveTraitsOK: the unsuffixed group's required traits may come from
// any of its contributing providers.
func (g *generator) collectiveTraitsOK(rg *rgroup, row []int32) bool {
	for _, set := range rg.required {
		ok := false
		for _, p := range row {
			if hasAny(g.s.Provider(p).traits, set) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// push adds the contributions and reports whether the merged amounts still
// fit: the write path's rule applied to the sums (spec 07 §6.5).
func (g *generator) push(rg *rgroup, provs []int32) bool {
	ok := true
	for k, c := range rg.classes {
		p := provs[0]
		if !rg.suffixed {
			p = provs[k]
		}
		n := rg.amounts[k]
		total, shared := n, false
		for _, x := range g.stack {
			if x.prov == p && x.class == c {
				total += x.amount
				shared = true
			}
		}
		g.stack = append(g.stack, contrib{p, c, n})
		if shared && ok {
			prov := g.s.Provider(p)
			inv := &prov.Inventories[prov.inv(c)]
			ok = total <= int64(maxInt) && inv.FitsUnits(int(total)) && inv.FitsCapacity(inv.Used, total)
		}
	}
	return ok
}

// place chooses an option for group gi and recurses (depth-first,
// lexicographic order, pruning as soon as a partial product cannot fit).
func (g *generator) place(gi int) {
	if gi == len(g.groups) {
		if g.resuming {
			g.resuming = false // this candidate was given in an earlier turn
			return
		}
		g.leaf()
		return
	}
	rg := &g.groups[gi]
	var only []int32
	narrowed := false
	if len(rg.subtree) > 0 || len(rg.early) > 0 {
		only, narrowed = g.subtreeOnly(rg, gi)
	}
	// With one option left or none, trying it costs no more than the
	// lookahead would.
	if gi > 0 && g.candOf == g.anchor && (g.steps-g.leafStep > lookaheadAfter || g.opt.lookaheadAlways) &&
		(!narrowed || len(only) > 1) && !g.fits(gi) {
		return
	}
	o := 0
	if g.resuming {
		o = int(g.pos[gi])
	}
	if narrowed {
		from, _ := slices.BinarySearch(only, int32(o))
		for _, i := range only[from:] {
			if g.tick() {
				return
			}
			g.try(rg, gi, int(i))
		}
		return
	}
	for ; o < rg.nopts && !g.tick(); o++ {
		g.try(rg, gi, o)
	}
}

// try places option o of group gi and, if it fits, the groups after it.
func (g *generator) try(rg *rgroup, gi, o int) {
	g.pos[gi] = int32(o)
	var provs []int32
	if rg.suffixed {
		provs = rg.opts[o : o+1]
		if g.req.Isolate() && g.usedBySuffixed(gi, provs[0]) {
			return
		}
		g.chosen[gi] = provs[0]
	} else {
		n := len(rg.classes)
		provs = rg.opts[o*n : o*n+n]
		g.chosen[gi] = int32(o)
	}
	depth := len(g.stack)
	if g.push(rg, provs) && g.subtreesOK(rg, gi) && g.subtreesPossible(rg, gi) {
		g.place(gi + 1)
	}
	g.stack = g.stack[:depth]
}

func (g *generator) usedBySuffixed(gi int, p int32) bool {
	for i := 0; i < gi; i++ {
		if g.groups[i].suffixed && g.chosen[i] == p {
			return true
		}
	}
	return false
}

// subtreesOK checks the same_subtree constraints completed by group gi:
// one of the mapped providers must be an ancestor-or-self of all others.
func (g *generator) subtreesOK(rg *rgroup, gi int) bool {
	for _, k := range rg.subtree {
		var buf [8]int32
		if u := g.subtreeChosen(buf[:0], k, gi); len(u) > 1 && !g.aboveAll(u, u) {
			return false
		}
	}
	return true
}

// subtreesPossible is a necessary condition for the same_subtree
// constraints group gi is in but does not complete: when no provider
// chosen so far for a constraint's groups is above all the others, the
// one that is must come from a group still to be placed, so one of those
// must offer a provider above all of them. Checking only once the last
// group was placed, a wide tree's impossible request (four isolated
// groups of one child each, under a root of 64 children) walked every
// combination of children, 15 million, before rejecting them all.
func (g *generator) subtreesPossible(rg *rgroup, gi int) bool {
	for _, k := range rg.early {
		var buf [8]int32
		u := g.subtreeChosen(buf[:0], k, gi)
		if ok, judged := g.subtreeCanComplete(g.anchor, k, gi, u); judged {
			if !ok {
				return false
			}
			continue
		}
		if len(u) <= 1 || g.aboveAll(u, u) {
			continue
		}
		possible := false
		for r := gi + 1; r < len(g.groups) && !possible; r++ {
			if later := &g.groups[r]; g.inConstraint(later, k) {
				possible = g.aboveAll(later.opts[:later.nopts], u)
			}
		}
		if !possible {
			return false
		}
	}
	return true
}

// subtreeChosen appends to u the distinct providers chosen for the groups
// of same_subtree constraint k placed so far (those up to gi).
func (g *generator) subtreeChosen(u []int32, k, gi int) []int32 {
	for i := 0; i <= gi; i++ {
		if g.inConstraint(&g.groups[i], k) && !slices.Contains(u, g.chosen[i]) {
			u = append(u, g.chosen[i])
		}
	}
	return u
}

// aboveAll reports whether one of cands is an ancestor-or-self of every
// provider of u.
func (g *generator) aboveAll(cands, u []int32) bool {
	for _, c := range cands {
		all := true
		for _, v := range u {
			if !g.isAncestorOrSelf(c, v) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (g *generator) isAncestorOrSelf(a, v int32) bool {
	// No chain is longer than the snapshot, except around a parent loop
	// (which concurrent moves in the Python service can leave behind):
	// stop there rather than spin.
	for steps := 0; v >= 0 && steps <= g.s.n; steps++ {
		if v == a {
			return true
		}
		v = g.s.Provider(v).Parent
	}
	return false
}

// leaf turns the current combination into a candidate.
func (g *generator) leaf() {
	g.leafStep = g.steps
	s := g.s
	g.reserve()
	start := len(g.allocArena)
	allocs := g.consolidate()
	mstart, pstart := len(g.mapArena), len(g.provArena)
	allSharing := true
	for _, a := range allocs {
		allSharing = allSharing && s.Provider(a.Provider).Sharing
	}
	for gi := range g.groups {
		rg := &g.groups[gi]
		pstart := len(g.provArena)
		if rg.suffixed {
			g.provArena = append(g.provArena, g.chosen[gi])
		} else {
			n := len(rg.classes)
			row := rg.opts[int(g.chosen[gi])*n : int(g.chosen[gi])*n+n]
			for _, p := range row {
				if !slices.Contains(g.provArena[pstart:], p) {
					g.provArena = append(g.provArena, p)
				}
			}
			slices.Sort(g.provArena[pstart:])
		}
		provs := g.provArena[pstart:len(g.provArena):len(g.provArena)]
		for _, p := range provs {
			allSharing = allSharing && s.Provider(p).Sharing
		}
		g.mapArena = append(g.mapArena, Mapping{rg.suffix, provs})
	}
	maps := g.mapArena[mstart:len(g.mapArena):len(g.mapArena)]
	// Only a candidate made of sharing providers alone can be produced
	// under several anchors; every other one is unique by construction.
	if allSharing {
		key := g.key(allocs, maps)
		if g.seen == nil {
			g.seen = map[string]struct{}{}
		}
		if _, dup := g.seen[key]; dup {
			g.allocArena, g.mapArena, g.provArena = g.allocArena[:start], g.mapArena[:mstart], g.provArena[:pstart]
			return
		}
		g.seen[key] = struct{}{}
		g.charge(sizeSeenEntry + len(key))
	}
	g.count++
	if g.opt.trace != nil {
		g.opt.trace(g.anchor)
	}
	if g.opt.MaxCandidates > 0 && g.count >= g.opt.MaxCandidates {
		g.end()
	}
	if g.turns {
		g.stop, g.paused = true, true
	}
	if g.legacy && multiProviderTree(s, allocs) {
		// Hidden (though counted by the cap above): its arena space is
		// reused, so hidden candidates do not add up in memory.
		g.allocArena, g.mapArena, g.provArena = g.allocArena[:start], g.mapArena[:mstart], g.provArena[:pstart]
		return
	}
	if g.emit != nil {
		g.stream(AllocationRequest{Allocations: allocs, Mappings: maps})
		g.allocArena, g.mapArena, g.provArena = g.allocArena[:start], g.mapArena[:mstart], g.provArena[:pstart]
		return
	}
	if g.opt.Randomize && g.req.Limit > 0 {
		g.sample(AllocationRequest{Allocations: allocs, Mappings: maps})
		g.allocArena, g.mapArena, g.provArena = g.allocArena[:start], g.mapArena[:mstart], g.provArena[:pstart]
		return
	}
	if c := cap(g.results); len(g.results) == c {
		// Double: slices.Grow(…, 1) grows a large slice by a quarter, and
		// the repeated copies of a quarter-million requests cost a fifth
		// of the request.
		g.results = slices.Grow(g.results, max(c, 64))
		g.charge(sizeRequest * (cap(g.results) - c))
	}
	g.results = append(g.results, AllocationRequest{Allocations: allocs, Mappings: maps})
	if g.req.Limit > 0 && !g.opt.Randomize && len(g.results) >= g.req.Limit {
		g.end()
	}
}

// consolidate appends the current combination's allocations to the
// arena, one per provider and class, sorted by provider and class, and
// returns them.
func (g *generator) consolidate() []Allocation {
	s := g.s
	start := len(g.allocArena)
	for _, x := range g.stack {
		merged := false
		for i := start; i < len(g.allocArena); i++ {
			a := &g.allocArena[i]
			if a.Provider == x.prov && a.Class == s.classNames[x.class] {
				a.Amount += x.amount
				merged = true
				break
			}
		}
		if !merged {
			g.allocArena = append(g.allocArena, Allocation{x.prov, s.classNames[x.class], x.amount})
		}
	}
	allocs := g.allocArena[start:len(g.allocArena):len(g.allocArena)]
	slices.SortFunc(allocs, func(a, b Allocation) int {
		if a.Provider != b.Provider {
			return int(a.Provider - b.Provider)
		}
		return strings.Compare(a.Class, b.Class)
	})
	return allocs
}

// stream hands ar to emit, after marking what its summaries need; the
// caller then rewinds the arenas, so streamed candidates do not add up in
// memory.
func (g *generator) stream(ar AllocationRequest) {
	if g.used.bound == 0 {
		g.used = newIDSet(g.s.Len())
	}
	for _, a := range ar.Allocations {
		g.used.add(g.usedBy(a))
	}
	g.emitted++
	if err := g.emit(ar); err != nil {
		g.fail(err)
		return
	}
	if g.req.Limit > 0 && g.emitted >= g.req.Limit {
		g.end()
	}
}

// usedBy is the provider (below 1.29) or root (from 1.29) whose summary a
// candidate allocating a brings in.
func (g *generator) usedBy(a Allocation) int32 {
	if g.req.NestedAware {
		return g.s.Provider(a.Provider).Root
	}
	return a.Provider
}

// sample offers ar to a uniform random sample of req.Limit candidates
// (reservoir sampling, Knuth's Algorithm R), so that randomize with a
// limit holds that many candidates rather than all of them; finish then
// shuffles the sample, which makes it a uniform random ordered sample as
// before. A kept candidate is copied out of the arenas, which the caller
// rewinds, so one that is later replaced is garbage rather than pinning
// an arena chunk.
func (g *generator) sample(ar AllocationRequest) {
	n := g.offered
	g.offered++
	slot := n
	if n >= g.req.Limit {
		if slot = g.intN(n + 1); slot >= g.req.Limit {
			return
		}
	}
	np := 0
	for _, m := range ar.Mappings {
		np += len(m.Providers)
	}
	provs := make([]int32, 0, np)
	kept := AllocationRequest{Allocations: slices.Clone(ar.Allocations), Mappings: make([]Mapping, len(ar.Mappings))}
	for i, m := range ar.Mappings {
		from := len(provs)
		provs = append(provs, m.Providers...)
		kept.Mappings[i] = Mapping{Suffix: m.Suffix, Providers: provs[from:len(provs):len(provs)]}
	}
	if slot < len(g.results) {
		g.results[slot] = kept // the replaced one's memory is released
		return
	}
	g.charge(sizeRequest + sizeAllocation*len(kept.Allocations) + sizeMapping*len(kept.Mappings) + 4*np)
	g.results = append(g.results, kept)
}

// reserve makes room in the arenas for one more candidate. Full arenas are
// replaced, not grown: earlier candidates keep pointing into the old chunk,
// and nothing is ever copied. Chunks start small and double, so a request
// with a small limit allocates little.
// Every chunk counts against the memory budget.
func (g *generator) reserve() {
	if n := len(g.stack); cap(g.allocArena)-len(g.allocArena) < n {
		g.allocArena = make([]Allocation, 0, nextChunk(cap(g.allocArena), n))
		g.charge(sizeAllocation * cap(g.allocArena))
	}
	n := 0
	for i := range g.groups {
		n += max(1, len(g.groups[i].classes))
	}
	if cap(g.provArena)-len(g.provArena) < n {
		g.provArena = make([]int32, 0, nextChunk(cap(g.provArena), n))
		g.charge(4 * cap(g.provArena))
	}
	if n := len(g.groups); cap(g.mapArena)-len(g.mapArena) < n {
		g.mapArena = make([]Mapping, 0, nextChunk(cap(g.mapArena), n))
		g.charge(sizeMapping * cap(g.mapArena))
	}
}

// nextChunk is the capacity of the arena chunk after one of capacity prev,
// at least need: 32 elements at first, doubling up to 4096.
func nextChunk(prev, need int) int {
	return max(need, min(max(32, 2*prev), 4096))
}

func (g *generator) key(allocs []Allocation, maps []Mapping) string {
	b := g.keyBuf[:0]
	for _, a := range allocs {
		b = strconv.AppendInt(b, int64(a.Provider), 10)
		b = append(b, ':')
		b = append(b, a.Class...)
		b = append(b, ':')
		b = strconv.AppendInt(b, a.Amount, 10)
		b = append(b, ',')
	}
	for _, m := range maps {
		b = append(b, '|')
		b = append(b, m.Suffix...)
		for _, p := range m.Providers {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(p), 10)
		}
	}
	g.keyBuf = b
	return string(b)
}

// multiProviderTree reports whether two different providers of one tree
// appear in allocs (hidden below 1.29 when nested providers exist).
func multiProviderTree(s *Snapshot, allocs []Allocation) bool {
	for i, a := range allocs {
		for _, b := range allocs[i+1:] {
			if a.Provider != b.Provider && s.Provider(a.Provider).Root == s.Provider(b.Provider).Root {
				return true
			}
		}
	}
	return false
}

// finish applies randomisation and limit and computes the summaries.
func (g *generator) finish() *Result {
	res := g.results
	if g.opt.Randomize && len(res) > 1 {
		n := len(res)
		k := n
		if g.req.Limit > 0 && g.req.Limit < n {
			k = g.req.Limit
		}
		for i := 0; i < k; i++ {
			j := i + g.intN(n-i)
			res[i], res[j] = res[j], res[i]
		}
		res = res[:k]
	} else if g.req.Limit > 0 && len(res) > g.req.Limit {
		res = res[:g.req.Limit]
	}
	out := &Result{Requests: res}
	s := g.s
	if len(res) == 0 {
		return out
	}
	// The providers (below 1.29) or roots (from 1.29) used.
	used := g.usedBy
	n := 0
	for _, r := range res {
		n += len(r.Allocations)
	}
	var ids []int32
	if 4*n <= s.Len() {
		// Few candidates: list, sort and compact, without touching the
		// whole snapshot.
		ids = make([]int32, 0, n)
		for _, r := range res {
			for _, a := range r.Allocations {
				ids = append(ids, used(a))
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
	} else {
		// Many: mark, so the extra memory is bounded by the snapshot
		// rather than growing with the candidates.
		marks := make([]bool, s.Len())
		for _, r := range res {
			for _, a := range r.Allocations {
				marks[used(a)] = true
			}
		}
		for i, m := range marks {
			if m {
				ids = append(ids, int32(i))
			}
		}
	}
	out.Summaries = g.summaries(ids)
	return out
}

// summaries lists the providers that get a provider summary, given the
// providers (below 1.29) or roots (from 1.29) used, ascending.
func (g *generator) summaries(ids []int32) []int32 {
	if !g.req.NestedAware {
		return ids
	}
	var out []int32
	for _, root := range ids {
		out = append(out, g.s.tree(root)...)
	}
	slices.Sort(out)
	return out
}

func (g *generator) intN(n int) int {
	if g.opt.Rand != nil {
		return g.opt.Rand.IntN(n)
	}
	return rand.IntN(n)
}
