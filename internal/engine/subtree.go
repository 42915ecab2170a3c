package engine

import "slices"

// narrowSubtreeFrom is the number of options from which a group of a
// same_subtree constraint has them narrowed (subtreeOnly) rather than
// tried one by one: below it, trying them all costs less than finding
// them.
const narrowSubtreeFrom = 32

// subtreeOnly returns the positions, ascending, of the only options of
// suffixed group gi that can pass the checks of its first same_subtree
// constraint beside the providers u chosen for that constraint's earlier
// groups: subtreesOK when gi completes the constraint, subtreesPossible
// otherwise. Those options are
//
//   - a provider above all of u (an ancestor-or-self of each: the chain
//     of u's common ancestors), which becomes the one above all,
//   - a provider in the subtree of top, where top is the member of u above
//     the others, if there is one; for a group that does not complete the
//     constraint, top is rather the highest provider of the chain that a
//     later group of the constraint offers, since that group can then be
//     the one above all;
//   - or, when u holds a sharing provider of another tree, that provider,
//     if u is that provider alone: no provider is above two trees.
//
// Any other option fails the checks, so narrowing changes no answer; it
// makes a wide tree's constraint linear where it was quadratic (two
// groups over a root of 10,000 children tried 10^8 pairs to find none
// works, in 4.5 s) or worse (three groups over 1,000 children, 2.5 s).
// ok is false when nothing is narrowed: every option is tried, as before.
func (g *generator) subtreeOnly(rg *rgroup, gi int) (only []int32, ok bool) {
	if !rg.suffixed || rg.nopts < narrowSubtreeFrom && !g.opt.subtreeAlways {
		return nil, false
	}
	var k int
	completes := len(rg.subtree) > 0
	switch {
	case completes:
		k = rg.subtree[0]
	case len(rg.early) > 0:
		k = rg.early[0]
	default:
		return nil, false
	}
	var buf [8]int32
	u := g.subtreeChosen(buf[:0], k, gi-1)
	if len(u) == 0 {
		return nil, false
	}
	opts := rg.opts[:rg.nopts]
	only = rg.only[:0]
	if g.outside(g.anchor, u) {
		// A provider of another tree (sharing) keeps the constraint only
		// alone: every group on it.
		if i, found := slices.BinarySearch(opts, u[0]); found && len(u) == 1 {
			only = append(only, int32(i))
		}
		rg.only = only
		return only, true
	}
	t := g.treeOrderOf(g.anchor)
	var chainBuf [16]int32
	chain, ok := t.commonAncestors(chainBuf[:0], g.s, u)
	if !ok {
		return nil, false
	}
	top := int32(-1)
	if len(chain) > 0 && slices.Contains(u, chain[0]) {
		top = chain[0]
	}
	if !completes {
		for _, x := range chain {
			if g.laterOffers(k, gi, x) {
				top = x // the chain goes up: the last one offered is the highest
			}
		}
	}
	for _, x := range chain {
		if i, found := slices.BinarySearch(opts, x); found {
			only = append(only, int32(i))
		}
	}
	if top >= 0 {
		sub := t.subtree(top)
		if len(sub) > len(opts)/2 && !g.opt.subtreeAlways {
			return nil, false // most options stay: try them all
		}
		for _, p := range sub {
			if i, found := slices.BinarySearch(opts, p); found {
				only = append(only, int32(i))
			}
		}
	}
	slices.Sort(only)
	only = slices.Compact(only)
	rg.only = only
	return only, true
}

// subtreesFeasible is a necessary condition, judged once under anchor a (a
// root) for each same_subtree constraint, when the tree is large or the
// constraint's groups have many options: one of the constraint's groups
// must offer a provider under which each of its other groups has an option
// (that provider counts, except under group_policy=isolate, and the groups
// that have no other must fit on it together), or every group must offer
// the same sharing provider of another tree and fit on it together.
// Without it, a constraint no choice can keep (a NUMA node and a GPU that
// are siblings under the root) was found out again under every combination
// of the groups placed before its own: 4.4 s for 64 × 1,512 × 16 of them.
func (g *generator) subtreesFeasible(a int32) bool {
	for k := range g.req.SameSubtree {
		if !g.subtreeFeasible(a, k) {
			return false
		}
	}
	return true
}

func (g *generator) subtreeFeasible(a int32, k int) bool {
	if !g.wideConstraint(k) && !g.bigTree(a) {
		return true
	}
	var buf, outBuf [8][]int32
	var groupBuf [8]*rgroup
	pos, out, groups := buf[:0], outBuf[:0], groupBuf[:0]
	for i := range g.groups {
		if rg := &g.groups[i]; g.inConstraint(rg, k) {
			p, o, ok := g.dfsPositions(rg, a)
			if !ok {
				return true
			}
			pos, out, groups = append(pos, p), append(out, o), append(groups, rg)
		}
	}
	// A provider of another tree (sharing) keeps the constraint only
	// alone: every group on it, which isolate forbids.
	if !g.req.Isolate() {
		for _, s := range out[0] {
			all := true
			for _, o := range out[1:] {
				_, found := slices.BinarySearch(o, s)
				all = all && found
			}
			if all && g.fitTogether(s, groups) {
				return true
			}
		}
	}
	t := g.treeOrderOf(a)
	// Under group_policy=isolate the others must be strictly beneath x.
	below := int32(0)
	if g.req.Isolate() {
		below = 1
	}
	var forcedBuf [8]*rgroup
	for i := range pos {
		for _, x := range pos[i] {
			// Group i takes x; a group with no other option beneath it
			// must take x too, and they must fit on it together.
			forced, under := append(forcedBuf[:0], groups[i]), true
			for h := range pos {
				if h == i {
					continue
				}
				if !hasIn(pos[h], x+below, t.end[x]) {
					under = false
					break
				}
				if !hasIn(pos[h], x+1, t.end[x]) {
					forced = append(forced, groups[h])
				}
			}
			if under && (len(forced) == 1 || g.fitTogether(t.order[x], forced)) {
				return true
			}
		}
	}
	return false
}

// fitTogether reports whether provider p can give every group of gs its
// amounts at once: the capacity rule (Provider.fits) applied to the sums,
// as push does.
func (g *generator) fitTogether(p int32, gs []*rgroup) bool {
	prov := g.s.Provider(p)
	for _, rg := range gs {
		for _, c := range rg.classes {
			var total int64
			for _, other := range gs {
				for j, oc := range other.classes {
					if oc == c {
						total += other.amounts[j]
					}
				}
			}
			if !prov.fits(c, total) {
				return false
			}
		}
	}
	return true
}

// narrowFirstGroups drops, under anchor a, from the options of the first
// group of each wide same_subtree constraint those that the constraint's
// later groups cannot join (subtreeCanComplete with that option alone).
// That judgement depends on nothing placed before, so it is made once
// here rather than under every combination of the groups before the first
// (a VF beside the root, no NUMA node above it, was tried again under each
// of the 556 choices of an unsuffixed group: 0.9 s to find nothing). The
// options dropped are in no candidate, so the order of those left, and of
// the answer, is unchanged. False if none is left.
func (g *generator) narrowFirstGroups(a int32) bool {
	for k := range g.req.SameSubtree {
		first := 0
		for first < len(g.groups) && !g.inConstraint(&g.groups[first], k) {
			first++
		}
		if first == len(g.groups) || slices.Contains(g.groups[first].subtree, k) || !g.wideConstraint(k) && !g.bigTree(a) {
			continue // no group, or only one, or too few options to pay
		}
		rg := &g.groups[first]
		kept := rg.opts[:0]
		for _, x := range rg.opts[:rg.nopts] {
			if ok, judged := g.canComplete(a, k, first, []int32{x}); ok || !judged {
				kept = append(kept, x)
			}
		}
		if len(kept) < rg.nopts {
			rg.opts, rg.nopts, rg.dfs = kept, len(kept), nil
		}
		if rg.nopts == 0 {
			return false
		}
	}
	return true
}

// subtreeCanComplete judges, for a constraint k that group gi is in but
// does not complete, whether the groups after gi can still complete it
// beside the providers u chosen so far: its final provider above all
// others must be above all of u (on the chain of u's common ancestors),
// be in u or be offered by a later group, and have an option of every
// later group in its subtree (beneath it, under group_policy=isolate, if
// it is in u); a sharing provider of another tree in u must be all of u
// and offered by every later group. subtreesPossible asked only the first
// of those, and only when no provider of u was above the others, so a
// first group that took a provider the last group could not join (a VF
// beside the root, the last group a NUMA node) was found out again under
// every combination of the groups between them. judged is false when the
// constraint's groups have few options or the tree holds a parent loop:
// subtreesPossible then judges as before. root is the anchor whose options
// the groups hold.
func (g *generator) subtreeCanComplete(root int32, k, gi int, u []int32) (ok, judged bool) {
	if !g.wideConstraint(k) {
		return false, false
	}
	return g.canComplete(root, k, gi, u)
}

// canComplete is subtreeCanComplete whatever the number of options.
func (g *generator) canComplete(root int32, k, gi int, u []int32) (ok, judged bool) {
	var buf, outBuf [8][]int32
	later, out := buf[:0], outBuf[:0]
	for r := gi + 1; r < len(g.groups); r++ {
		if rg := &g.groups[r]; g.inConstraint(rg, k) {
			p, o, ok := g.dfsPositions(rg, root)
			if !ok {
				return false, false
			}
			later, out = append(later, p), append(out, o)
		}
	}
	if g.outside(root, u) {
		// A provider of another tree keeps the constraint only alone:
		// every later group must offer it, and isolate forbids that.
		if len(u) > 1 || g.req.Isolate() {
			return false, true
		}
		for _, o := range out {
			if _, found := slices.BinarySearch(o, u[0]); !found {
				return false, true
			}
		}
		return true, true
	}
	t := g.treeOrderOf(root)
	lowest, ok := t.lowestAbove(g.s, u)
	if !ok {
		return false, false
	}
	// Up the chain of u's common ancestors, as far as needed: in a deep
	// chain of providers the first usually answers.
	for y := lowest; y >= 0; y = g.s.Provider(y).Parent {
		at := t.pos(y)
		offered := slices.Contains(u, y)
		// Under group_policy=isolate a provider taken is not offered again.
		from := at
		if offered && g.req.Isolate() {
			from++
		}
		under := true
		for _, p := range later {
			if _, found := slices.BinarySearch(p, at); found {
				offered = true
			}
			under = under && hasIn(p, from, t.end[at])
		}
		if offered && under {
			return true, true
		}
	}
	return false, true
}

// outside reports whether one of u is not in the tree rooted at root (a
// sharing provider of another tree).
func (g *generator) outside(root int32, u []int32) bool {
	for _, v := range u {
		if g.s.Provider(v).Root != root {
			return true
		}
	}
	return false
}

// hasIn reports whether sorted holds a value in [from, to).
func hasIn(sorted []int32, from, to int32) bool {
	j, _ := slices.BinarySearch(sorted, from)
	return j < len(sorted) && sorted[j] < to
}

// inConstraint reports whether rg is one of same_subtree constraint k's
// groups.
func (g *generator) inConstraint(rg *rgroup, k int) bool {
	return rg.suffixed && slices.Contains(g.req.SameSubtree[k], rg.suffix)
}

// wideConstraint reports whether one of constraint k's groups has enough
// options under the current anchor to be judged through the tree's
// depth-first order.
func (g *generator) wideConstraint(k int) bool {
	for i := range g.groups {
		if rg := &g.groups[i]; g.inConstraint(rg, k) && (rg.nopts >= narrowSubtreeFrom || g.opt.subtreeAlways) {
			return true
		}
	}
	return false
}

// bigTree reports whether the tree rooted at a is large enough for the
// judgements made once under it (subtreesFeasible, narrowFirstGroups) to
// pay, whatever the number of options of each group: the walk under it
// multiplies those of every group.
func (g *generator) bigTree(a int32) bool {
	return len(g.s.tree(a)) >= narrowSubtreeFrom || g.opt.subtreeAlways
}

// dfsPositions returns the places of suffixed group rg's options, which
// must be root's, in the depth-first order of root's tree, sorted, and
// apart its options from other trees (sharing providers), ascending; ok is
// false when the root does not reach one of the tree's (a parent loop).
func (g *generator) dfsPositions(rg *rgroup, root int32) (pos, out []int32, ok bool) {
	if rg.dfs != nil && rg.dfsOf == root {
		return rg.dfs, rg.dfsOut, true
	}
	t := g.treeOrderOf(root)
	pos, out = rg.dfs[:0], rg.dfsOut[:0]
	for _, p := range rg.opts[:rg.nopts] {
		if g.s.Provider(p).Root != root {
			out = append(out, p)
			continue
		}
		j := t.pos(p)
		if j < 0 {
			rg.dfs = nil
			return nil, nil, false
		}
		pos = append(pos, j)
	}
	slices.Sort(pos)
	if pos == nil {
		pos = []int32{} // known, and empty
	}
	rg.dfs, rg.dfsOut, rg.dfsOf = pos, out, root
	return pos, out, true
}

// laterOffers reports whether a group after gi in same_subtree
// constraint k has x among its options (as subtreesPossible asks).
func (g *generator) laterOffers(k, gi int, x int32) bool {
	for r := gi + 1; r < len(g.groups); r++ {
		if later := &g.groups[r]; g.inConstraint(later, k) {
			if _, found := slices.BinarySearch(later.opts[:later.nopts], x); found {
				return true
			}
		}
	}
	return false
}

// treeOrder is a tree's providers in depth-first order, where each
// provider's subtree is a run: the subtree of order[i] is order[i:end[i]].
// Providers the root does not reach (a parent loop, which concurrent moves
// in the Python service can leave behind) are left out.
type treeOrder struct {
	members []int32 // the tree, ascending (Snapshot.tree)
	at      []int32 // members[j]'s position in order, -1 if unreachable
	order   []int32
	end     []int32
}

// treeOrderOf returns the depth-first order of the tree rooted at root,
// built on first use and counted against the memory budget. A depth-first
// walk is done with a root when it moves to the next, so it keeps only
// the last; breadth-first comes back to each root in turn and keeps all.
func (g *generator) treeOrderOf(root int32) *treeOrder {
	if t, ok := g.orders[root]; ok {
		return t
	}
	if g.orders == nil || g.opt.Strategy != BreadthFirst {
		g.orders = map[int32]*treeOrder{}
	}
	t := newTreeOrder(g.s, root)
	g.orders[root] = t
	g.charge(4 * (len(t.at) + len(t.order) + len(t.end)))
	return t
}

func newTreeOrder(s *Snapshot, root int32) *treeOrder {
	members := s.tree(root)
	m := len(members)
	t := &treeOrder{members: members, at: make([]int32, m), order: make([]int32, 0, m), end: make([]int32, m)}
	// Children by the parent's position in members (compressed rows).
	parent := make([]int32, m)
	first := make([]int32, m+1)
	for j, p := range members {
		t.at[j], parent[j] = -1, -1
		if q := s.Provider(p).Parent; q >= 0 {
			if i, found := slices.BinarySearch(members, q); found {
				parent[j] = int32(i)
				first[i+1]++
			}
		}
	}
	for i := range m {
		first[i+1] += first[i]
	}
	kids := make([]int32, m)
	next := slices.Clone(first[:m])
	for j := range m {
		if i := parent[j]; i >= 0 {
			kids[next[i]] = int32(j)
			next[i]++
		}
	}
	r, found := slices.BinarySearch(members, root)
	if !found {
		return t
	}
	// Pre-order, then each subtree's size summed bottom up.
	var local []int32 // members position of each order entry
	stack := []int32{int32(r)}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if t.at[j] >= 0 {
			continue
		}
		t.at[j] = int32(len(t.order))
		t.order = append(t.order, members[j])
		local = append(local, j)
		for c := first[j+1] - 1; c >= first[j]; c-- {
			stack = append(stack, kids[c])
		}
	}
	size := make([]int32, m)
	for i := len(local) - 1; i >= 0; i-- {
		j := local[i]
		size[j]++
		t.end[i] = int32(i) + size[j]
		if pj := parent[j]; pj >= 0 && t.at[pj] >= 0 && t.at[pj] < int32(i) {
			size[pj] += size[j]
		}
	}
	t.end = t.end[:len(t.order)]
	return t
}

// pos is p's position in order, -1 when p is not in the tree or the root
// does not reach it.
func (t *treeOrder) pos(p int32) int32 {
	j, found := slices.BinarySearch(t.members, p)
	if !found {
		return -1
	}
	return t.at[j]
}

// subtree returns the subtree of p, which the root reaches.
func (t *treeOrder) subtree(p int32) []int32 {
	i := t.pos(p)
	return t.order[i:t.end[i]]
}

// commonAncestors appends to chain the providers of the tree that are an
// ancestor-or-self of every provider of u, nearest first; ok is false when
// a provider of u is not in the tree or the root does not reach it.
func (t *treeOrder) commonAncestors(chain []int32, s *Snapshot, u []int32) (_ []int32, ok bool) {
	x, ok := t.lowestAbove(s, u)
	for ; ok && x >= 0; x = s.Provider(x).Parent {
		chain = append(chain, x)
	}
	return chain, ok
}

// lowestAbove returns the nearest provider of the tree that is an
// ancestor-or-self of every provider of u; those above it are its
// ancestors. ok is false when a provider of u is not in the tree or the
// root does not reach it.
func (t *treeOrder) lowestAbove(s *Snapshot, u []int32) (_ int32, ok bool) {
	var buf [8]int32
	at := buf[:0]
	for _, v := range u {
		i := t.pos(v)
		if i < 0 {
			return -1, false
		}
		at = append(at, i)
	}
	// Every provider on the path from u[0] to the root is reached by it.
	for x := u[0]; x >= 0; x = s.Provider(x).Parent {
		i := t.pos(x)
		above := true
		for _, v := range at {
			if v < i || v >= t.end[i] {
				above = false
				break
			}
		}
		if above {
			return x, true
		}
	}
	return -1, true // unreachable: the root is above all it reaches
}
