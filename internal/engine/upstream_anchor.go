package engine

import "github.com/openstack-placement-go/placement/internal/pycompat"

// Upstream collects the unsuffixed group's combinations of every anchor
// in one Python set, and its AllocationRequest compares equal to another
// that allocates the same whatever their anchors. A combination that
// several anchors can offer, which only one made of sharing providers
// can be, is therefore kept under one anchor only: the first of them in
// the order upstream meets the trees, the iteration order of its set of
// (provider, root, class) tuples (RPCandidateList, get_trees_matching_all).
// Merged with other groups, the combination is offered under that anchor
// alone. upstreamTrees rebuilds that set with pycompat.Set: the same
// tuples (database ids) added in the same sequence. Where upstream's
// order depends on more than the hashes (the rows of a query, a set of
// uuid strings, whose hashes change with every process), ascending ids
// stand in for it.
type upstreamTrees struct {
	rank    map[int64]int         // root id -> position in upstream's order
	members map[[3]int64]struct{} // (provider, anchor root, class) ids
}

// offeredUnder reports whether upstream offers the unsuffixed group's
// combination row under anchor a when other groups are merged with it.
func (g *generator) offeredUnder(rg *rgroup, row []int32, a int32) bool {
	s := g.s
	for _, p := range row {
		if !s.Provider(p).Sharing {
			return true // a non-sharing provider pins the row to its own tree
		}
	}
	if g.upstream == nil {
		g.upstream = g.upstreamTrees(rg)
	}
	u := g.upstream
	first, best := int32(-1), 0
	sp := s.Provider(row[0])
	for _, r := range append([]int32{sp.Root}, s.anchors(row[0])...) {
		rid := s.Provider(r).ID
		pos, ok := u.rank[rid]
		if !ok || (first >= 0 && pos >= best) {
			continue
		}
		all := true
		for k, p := range row {
			if _, ok := u.members[[3]int64{s.Provider(p).ID, rid, s.classID(rg.classes[k])}]; !ok {
				all = false
				break
			}
		}
		if all {
			first, best = r, pos
		}
	}
	return first == a
}

// upstreamTreesOf is upstreamTrees for the unsuffixed group grp of req,
// whatever req's other groups: upstream's set for that group depends only
// on it and on root_required. Empty (no root) when grp or req's root
// filters match nothing.
func upstreamTreesOf(s *Snapshot, req *Request, grp *Group) *upstreamTrees {
	one := &Request{Groups: []Group{*grp}, RootRequired: req.RootRequired, RootForbidden: req.RootForbidden, NestedAware: req.NestedAware}
	g := &generator{s: s, req: one}
	if !g.resolve() {
		return &upstreamTrees{}
	}
	return g.upstreamTrees(&g.groups[0])
}

type pair64 = [2]int64
type triple = [3]int64

func hashPair(x pair64) uint64 {
	return pycompat.TupleHash(pycompat.IntHash(x[0]), pycompat.IntHash(x[1]))
}
func hashTriple(x triple) uint64 {
	return pycompat.TupleHash(pycompat.IntHash(x[0]), pycompat.IntHash(x[1]), pycompat.IntHash(x[2]))
}

// upstreamTrees replays get_trees_matching_all for the unsuffixed group:
// per class, the providers with room for it and the sharing providers'
// anchors, filtered by root_required, member_of and forbidden aggregates,
// then narrowed to the trees every class has so far.
func (g *generator) upstreamTrees(rg *rgroup) *upstreamTrees {
	s := g.s
	u := &upstreamTrees{rank: map[int64]int{}, members: map[[3]int64]struct{}{}}
	inAggs := func(p *Provider, terms [][]int32) bool { return traitsOK(p.aggs, terms) }
	var all *pycompat.Set[triple]
	for k, c := range rg.classes {
		cid, n := s.classID(c), rg.amounts[k]
		// get_providers_with_resource: a set of (id, root id) rows
		found := pycompat.NewSet[pair64]()
		for _, i := range s.byClass[c] {
			p := s.Provider(i)
			if p.fits(c, n) && (rg.inTree < 0 || p.Root == rg.inTree) {
				x := pair64{p.ID, s.Provider(p.Root).ID}
				found.Add(x, hashPair(x))
			}
		}
		list := pycompat.NewSet[triple]()
		list.Update(withClass(found, cid))
		if rg.inTree < 0 {
			anchored := pycompat.NewSet[pair64]()
			for _, i := range s.sharing {
				p := s.Provider(i)
				if !p.fits(c, n) || (len(rg.memberOf) > 0 && !inAggs(p, rg.memberOf)) {
					continue
				}
				for _, a := range s.anchors(i) {
					x := pair64{p.ID, s.Provider(a).ID}
					anchored.Add(x, hashPair(x))
				}
			}
			if anchored.Len() > 0 {
				list.Update(withClass(anchored, cid))
			}
		}
		byID := func(x triple) (p, r *Provider) {
			i, _ := s.index(x[0])
			j, _ := s.index(x[1])
			return s.Provider(i), s.Provider(j)
		}
		if g.allowed != nil {
			list = filtered(list, func(x triple) bool { j, _ := s.index(x[1]); return g.allowed[j] })
		}
		if len(rg.memberOf) > 0 {
			list = filtered(list, func(x triple) bool { p, r := byID(x); return inAggs(p, rg.memberOf) || inAggs(r, rg.memberOf) })
		}
		if len(rg.forbAggs) > 0 {
			list = filtered(list, func(x triple) bool {
				p, r := byID(x)
				return !hasAny(p.aggs, rg.forbAggs) && !hasAny(r.aggs, rg.forbAggs)
			})
		}
		if list.Len() == 0 {
			return u
		}
		if all == nil {
			all = list
			continue
		}
		// merge_common_trees
		both := map[int64]bool{}
		for _, x := range all.Keys() {
			both[x[1]] = false
		}
		for _, x := range list.Keys() {
			if _, ok := both[x[1]]; ok {
				both[x[1]] = true
			}
		}
		all.Update(list)
		all = filtered(all, func(x triple) bool { return both[x[1]] })
		if all.Len() == 0 {
			return u
		}
	}
	if all == nil {
		return u
	}
	for _, x := range all.Keys() {
		u.members[x] = struct{}{}
		if _, ok := u.rank[x[1]]; !ok {
			u.rank[x[1]] = len(u.rank)
		}
	}
	return u
}

// withClass is set(RPCandidate(id, root, class) for (id, root) in pairs).
func withClass(pairs *pycompat.Set[pair64], class int64) *pycompat.Set[triple] {
	out := pycompat.NewSet[triple]()
	for _, x := range pairs.Keys() {
		t := triple{x[0], x[1], class}
		out.Add(t, hashTriple(t))
	}
	return out
}

// filtered is set(x for x in s if keep(x)).
func filtered(s *pycompat.Set[triple], keep func(triple) bool) *pycompat.Set[triple] {
	out := pycompat.NewSet[triple]()
	for _, x := range s.Keys() {
		if keep(x) {
			out.Add(x, hashTriple(x))
		}
	}
	return out
}
