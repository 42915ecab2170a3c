package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Explain reports why a GET /allocation_candidates request gets the
// candidates it gets: a funnel per request group, then the steps that
// combine the groups, ending with what Generate returns for req over s
// with opt. It sits beside Generate and uses the generator's own filters
// (Provider.fits and its parts, the group's option building, the walk
// with its isolate, same_subtree and below-1.29 rules), so it costs
// Generate nothing; Explain itself runs the walk once per root and filter
// variant, then Generate once.
//
// explain is the index of a provider to explain (-1 for none): the
// explanation then names the first step its tree fails, with the numbers.
//
// Errors are Generate's: ctx.Err() once ctx is done, and the memory-limit
// error when one root's options exceed opt.MemoryLimit.
//
// In the funnel a root is a root provider under which the request can
// still be placed (its anchor, spec 07 §6.5): its own tree plus the
// sharing providers of its aggregates. The last step is different: it
// counts the roots of the providers the returned candidates allocate
// from, as provider_summaries does.
func Explain(ctx context.Context, s *Snapshot, req *Request, opt Options, explain int32) (*Explanation, error) {
	x := &explainer{s: s, req: req, opt: opt, ctx: ctx, provider: explain, root: -1}
	if explain >= 0 {
		x.root = s.Provider(explain).Root
		x.verdict = &Verdict{Provider: s.Provider(explain).UUID, Root: s.Provider(x.root).UUID}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &Explanation{}
	every := s.roots
	for i := range req.Groups {
		f, roots, err := x.group(i)
		if err != nil {
			return nil, err
		}
		out.Groups = append(out.Groups, f)
		every = intersect(every, roots)
	}
	combined, err := x.combine(every)
	if err != nil {
		return nil, err
	}
	out.Combined = combined
	res, err := Generate(ctx, s, req, opt)
	if err != nil {
		return nil, err
	}
	last, roots := x.returned(res)
	out.Combined = append(out.Combined, last)
	out.Roots = roots
	if x.verdict != nil {
		if _, ok := slices.BinarySearch(roots, x.root); ok {
			// A sharing provider's tree may fail as a root of its own
			// and still serve other roots' candidates.
			*x.verdict = Verdict{Provider: x.verdict.Provider, Root: x.verdict.Root, Passed: true}
		} else {
			x.fail(noGroup, last.Name, x.cutReason())
		}
		out.Verdict = x.verdict
	}
	return out, nil
}

// Explanation is the result of Explain.
type Explanation struct {
	// Groups has one funnel per request group, in request order.
	Groups []GroupFunnel `json:"groups"`
	// Combined starts with the roots every group can be placed under and
	// applies the request-wide filters and the rules that combine groups;
	// its last step is what the endpoint returns.
	Combined []Step `json:"combined"`
	// Roots are the roots of the providers the returned candidates
	// allocate from, ascending index.
	Roots []int32 `json:"-"`
	// Verdict is set when a provider was to be explained.
	Verdict *Verdict `json:"provider,omitempty"`
}

// GroupFunnel is the funnel of one request group.
type GroupFunnel struct {
	Suffix string `json:"suffix"`
	Steps  []Step `json:"steps"`
}

// Step is one step of a funnel: how many providers may still serve the
// group (Sharing of them being sharing providers) and under how many roots
// the group can still be placed, once this step's filter and every earlier
// one are applied. Candidates is set on the last step only.
type Step struct {
	Name       string `json:"step"`
	Providers  int    `json:"providers"`
	Sharing    int    `json:"sharing_providers"`
	Roots      int    `json:"roots"`
	Candidates *int   `json:"candidates,omitempty"`

	roots []int32 // ascending, for the tests
}

// Verdict explains one provider: the first step at which its tree drops
// out, with the reason, or Passed when its tree is among the roots of
// the returned candidates.
type Verdict struct {
	Provider string `json:"uuid"`
	Root     string `json:"root_provider_uuid"`
	Passed   bool   `json:"passed"`
	// Group is the suffix of the group whose funnel the tree drops out
	// of; nil when it drops out of the combined steps.
	Group  *string `json:"group,omitempty"`
	Step   string  `json:"step,omitempty"`
	Reason string  `json:"reason,omitempty"`
}

type explainer struct {
	s        *Snapshot
	req      *Request
	opt      Options
	ctx      context.Context
	provider int32 // the provider to explain, -1 for none
	root     int32 // its root
	verdict  *Verdict
}

// fail records the first step the explained tree fails.
func (x *explainer) fail(group, step, reason string) {
	if x.verdict == nil || x.verdict.Step != "" {
		return
	}
	x.verdict.Step, x.verdict.Reason = step, reason
	if group != noGroup {
		g := group
		x.verdict.Group = &g
	}
}

const noGroup = "\x00"

// slot is a set of (anchor, provider) pairs: the providers that may serve
// one slot of a group (one per class of the unsuffixed group, one for a
// suffixed group) under each root.
type slot []pair

// gfilter is one step of a group funnel: a predicate over the pairs of
// one slot (k >= 0) or of every slot (k < 0), and the reason a provider
// fails it.
type gfilter struct {
	name   string
	k      int
	ok     func(p *Provider, anchor int32) bool
	reason func(p *Provider) string
}

// group computes the funnel of group i and returns the roots its last
// step keeps.
func (x *explainer) group(i int) (GroupFunnel, []int32, error) {
	s, grp := x.s, &x.req.Groups[i]
	f := GroupFunnel{Suffix: grp.Suffix}
	rg := x.resolveGroup(grp)
	suffixed := grp.Suffix != ""
	nslots := 1
	if !suffixed && len(grp.Resources) > 0 {
		nslots = len(grp.Resources)
	}
	slots := x.startSlots(nslots)
	var filters []gfilter
	for k, r := range grp.Resources {
		c, n := rg.classes[k], r.Amount
		sk := k
		if suffixed {
			sk = 0
		}
		filters = append(filters, x.classFilters(r.Class, c, n, sk)...)
	}
	filters = append(filters, x.traitFilters(grp, rg)...)
	touched := make([]bool, nslots)
	for _, flt := range filters {
		if err := x.ctx.Err(); err != nil {
			return f, nil, err
		}
		before := slices.Clone(slots)
		for k := range slots {
			if flt.k >= 0 && flt.k != k {
				continue
			}
			touched[k] = true
			slots[k] = slices.DeleteFunc(slices.Clone(slots[k]), func(q pair) bool { return !flt.ok(s.Provider(q.prov), q.anchor) })
		}
		st, roots := x.count(flt.name, slots, touched)
		f.Steps = append(f.Steps, st)
		x.checkGroupStep(grp.Suffix, flt, before, slots, roots)
	}
	// The unsuffixed group's required traits may come from any of the
	// providers it combines: only the generator's option building
	// (generator.options) can judge that.
	if !suffixed && len(grp.Required) > 0 {
		roots, provs, err := x.groupOptions(grp)
		if err != nil {
			return f, nil, err
		}
		name := "required traits on any provider of the group"
		st := Step{Name: name, Providers: len(provs), Roots: len(roots), roots: roots}
		for _, p := range provs {
			if s.Provider(p).Sharing {
				st.Sharing++
			}
		}
		f.Steps = append(f.Steps, st)
		if x.root >= 0 && x.verdict.Step == "" {
			if _, ok := slices.BinarySearch(roots, x.root); !ok {
				x.fail(grp.Suffix, name, x.collectiveReason(grp))
			}
		}
		return f, roots, nil
	}
	_, roots := x.count("", slots, touched)
	if !suffixed && len(x.req.Groups) > 1 {
		st, kept, ok, err := x.offeredStep(grp, roots)
		if err != nil {
			return f, nil, err
		}
		if ok {
			f.Steps, roots = append(f.Steps, st), kept
		}
	}
	return f, roots, nil
}

// startSlots returns nslots slots holding every provider under its own
// root and, for a sharing provider, under the roots of its aggregates
// (spec 07 §5): where each provider starts usable.
func (x *explainer) startSlots(nslots int) []slot {
	s := x.s
	var base slot
	for _, r := range s.roots {
		for _, p := range s.tree(r) {
			base = append(base, pair{r, p})
		}
	}
	for _, p := range s.sharing {
		for _, a := range s.anchors(p) {
			if a != s.Provider(p).Root {
				base = append(base, pair{a, p})
			}
		}
	}
	slices.SortFunc(base, cmpPair)
	slots := make([]slot, nslots)
	for k := range slots {
		slots[k] = base
	}
	return slots
}

// offeredStep is the unsuffixed group's last step when the request has
// other groups: a combination made of sharing providers alone is offered
// under one of its anchors only, the first in upstream's order of the
// trees (generator.offeredUnder), so a root keeps the group if some
// combination is offered under it. ok is false when it drops no root (no
// step then).
func (x *explainer) offeredStep(grp *Group, roots []int32) (st Step, kept []int32, ok bool, err error) {
	kept, provs, err := x.groupOptions(grp)
	if err != nil || len(kept) == len(roots) {
		return Step{}, roots, false, err
	}
	name := "a combination offered under the root (with other groups)"
	st = Step{Name: name, Providers: len(provs), Roots: len(kept), roots: kept}
	for _, p := range provs {
		if x.s.Provider(p).Sharing {
			st.Sharing++
		}
	}
	if x.root >= 0 && x.verdict.Step == "" {
		if _, ok := slices.BinarySearch(kept, x.root); !ok {
			x.fail("", name, "only sharing providers serve the group under this root, and upstream offers their combinations under another of their anchors")
		}
	}
	return st, kept, true, nil
}

// count turns the slots into a step: the roots under which every slot
// keeps a provider, and the providers left under them in the slots a step
// has filtered so far.
func (x *explainer) count(name string, slots []slot, touched []bool) (Step, []int32) {
	var roots []int32
	for k, sl := range slots {
		var rs []int32
		for _, q := range sl {
			if len(rs) == 0 || rs[len(rs)-1] != q.anchor {
				rs = append(rs, q.anchor)
			}
		}
		if k == 0 {
			roots = rs
		} else {
			roots = intersect(roots, rs)
		}
	}
	seen := map[int32]bool{}
	st := Step{Name: name, Roots: len(roots), roots: roots}
	for k, sl := range slots {
		if !touched[k] {
			continue
		}
		for _, q := range sl {
			if _, ok := slices.BinarySearch(roots, q.anchor); !ok || seen[q.prov] {
				continue
			}
			seen[q.prov] = true
			st.Providers++
			if x.s.Provider(q.prov).Sharing {
				st.Sharing++
			}
		}
	}
	return st, roots
}

// checkGroupStep records the explained tree's failure at flt, if this is
// where it drops out: it names the providers of the tree (and sharing
// providers of its aggregates) that passed the earlier steps for the slot
// that lost them all.
func (x *explainer) checkGroupStep(suffix string, flt gfilter, before, after []slot, roots []int32) {
	if x.root < 0 || x.verdict.Step != "" {
		return
	}
	if _, ok := slices.BinarySearch(roots, x.root); ok {
		return
	}
	for k := range after {
		if hasAnchor(after[k], x.root) || !hasAnchor(before[k], x.root) {
			continue
		}
		var failed []*Provider
		for _, q := range before[k] {
			if q.anchor == x.root {
				failed = append(failed, x.s.Provider(q.prov))
			}
		}
		x.fail(suffix, flt.name, x.reasons(failed, flt.reason))
		return
	}
	// The tree had dropped out before: an earlier step already failed.
}

func hasAnchor(sl slot, a int32) bool {
	i, _ := slices.BinarySearchFunc(sl, a, func(q pair, a int32) int { return int(q.anchor - a) })
	return i < len(sl) && sl[i].anchor == a
}

// reasons renders why each of failed fails a step: the explained provider
// alone by its reason, several providers each with its uuid, the
// explained one first, at most three.
func (x *explainer) reasons(failed []*Provider, reason func(p *Provider) string) string {
	if len(failed) == 1 && failed[0] == x.s.Provider(x.provider) {
		return reason(failed[0])
	}
	slices.SortStableFunc(failed, func(a, b *Provider) int {
		ax, bx := a == x.s.Provider(x.provider), b == x.s.Provider(x.provider)
		switch {
		case ax && !bx:
			return -1
		case bx && !ax:
			return 1
		}
		return 0
	})
	first := reason(failed[0])
	same := true
	for _, p := range failed[1:] {
		same = same && reason(p) == first
	}
	if same {
		return fmt.Sprintf("%s (on each of the %d providers that could serve the group under this root)", first, len(failed))
	}
	var parts []string
	for i, p := range failed {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(failed)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %s", p.UUID, reason(p)))
	}
	return strings.Join(parts, "; ")
}

// classFilters are the steps for one requested class: an inventory of it,
// room for the amount, and the amount within min_unit, max_unit and
// step_size. Together they are Provider.fits.
func (x *explainer) classFilters(name string, c int32, n int64, k int) []gfilter {
	inv := func(p *Provider) *Inventory {
		if i := p.inv(c); i >= 0 {
			return &p.Inventories[i]
		}
		return nil
	}
	return []gfilter{
		{name: "inventory of " + name, k: k,
			ok:     func(p *Provider, _ int32) bool { return inv(p) != nil },
			reason: func(*Provider) string { return "no inventory of " + name }},
		{name: "capacity of " + name, k: k,
			ok: func(p *Provider, _ int32) bool {
				i := inv(p)
				return n <= int64(maxInt) && i.FitsCapacity(i.Used, n)
			},
			reason: func(p *Provider) string {
				i := inv(p)
				capacity := i.SummaryCapacity()
				return fmt.Sprintf("%s: requested %d, free %s (capacity %s, used %d)", name, n,
					pycompat.AppendTrunc(nil, capacity-float64(i.Used)), pycompat.AppendTrunc(nil, capacity), i.Used)
			}},
		{name: "min_unit, max_unit, step_size of " + name, k: k,
			ok: func(p *Provider, _ int32) bool { return inv(p).FitsUnits(int(n)) },
			reason: func(p *Provider) string {
				i := inv(p)
				switch {
				case n < int64(i.MinUnit):
					return fmt.Sprintf("%s: requested %d, below min_unit %d", name, n, i.MinUnit)
				case n > int64(i.MaxUnit):
					return fmt.Sprintf("%s: requested %d, above max_unit %d", name, n, i.MaxUnit)
				}
				return fmt.Sprintf("%s: requested %d, not a multiple of step_size %d", name, n, i.StepSize)
			}},
	}
}

// traitFilters are the steps of the group's traits, aggregates and
// in_tree, split out of rgroup.individually (suffixed groups, judged on
// the provider alone), generator.ownOK and generator.prepare (the
// unsuffixed group, whose aggregates may also be its root's, and whose
// required traits are judged on the combination, after these steps).
func (x *explainer) traitFilters(grp *Group, rg *rgroup) []gfilter {
	s := x.s
	suffixed, resourceless := grp.Suffix != "", len(grp.Resources) == 0
	var out []gfilter
	if suffixed {
		for i, set := range rg.required {
			names := grp.Required[i]
			name, reason := "required "+anyOf(names, "trait"), "required trait "+names[0]+" missing"
			if len(names) > 1 {
				reason = "none of the traits " + strings.Join(sortedCopy(names), ", ") + " present"
			}
			out = append(out, gfilter{name: name, k: -1,
				ok:     func(p *Provider, _ int32) bool { return hasAny(p.traits, set) },
				reason: func(*Provider) string { return reason }})
		}
	}
	for _, t := range grp.Forbidden {
		id, known := s.traitIndex(t)
		out = append(out, gfilter{name: "forbidden trait " + t, k: -1,
			ok:     func(p *Provider, _ int32) bool { return !known || !hasAny(p.traits, []int32{id}) },
			reason: func(*Provider) string { return "forbidden trait " + t + " present" }})
	}
	notIn := func(names []string) string { return "not in " + anyOf(names, "aggregate") }
	if suffixed {
		for i, set := range rg.memberOf {
			names := grp.MemberOf[i]
			out = append(out, gfilter{name: "member_of " + anyOf(names, "aggregate"), k: -1,
				ok:     func(p *Provider, _ int32) bool { return hasAny(p.aggs, set) },
				reason: func(*Provider) string { return notIn(names) }})
		}
	} else if len(rg.memberOf) > 0 {
		// A provider of the root's own tree passes when it or the root is
		// in the aggregates (every member_of at once); a sharing provider
		// of another tree must be in them itself (generator.prepare).
		var names []string
		for _, set := range grp.MemberOf {
			names = append(names, "member_of "+anyOf(set, "aggregate"))
		}
		out = append(out, gfilter{name: strings.Join(names, " and "), k: -1,
			ok: func(p *Provider, a int32) bool {
				return traitsOK(p.aggs, rg.memberOf) || p.Root == a && traitsOK(s.Provider(a).aggs, rg.memberOf)
			},
			reason: func(p *Provider) string {
				var missing []string
				for i, set := range rg.memberOf {
					if !hasAny(p.aggs, set) {
						missing = append(missing, notIn(grp.MemberOf[i]))
					}
				}
				return strings.Join(missing, ", ")
			}})
	}
	for _, agg := range grp.ForbiddenAggs {
		id, known := s.aggIndex(agg)
		out = append(out, gfilter{name: "forbidden aggregate " + agg, k: -1,
			ok: func(p *Provider, a int32) bool {
				if !known {
					return true
				}
				in := hasAny(p.aggs, []int32{id})
				if !suffixed {
					in = in || hasAny(s.Provider(a).aggs, []int32{id})
				}
				return !in
			},
			reason: func(*Provider) string { return "in forbidden aggregate " + agg }})
	}
	// in_tree: a suffixed group's provider must be in the tree (quirk A2:
	// a resourceless group ignores a known one); the unsuffixed group is
	// placed under that root only, and without other trees' sharing
	// providers.
	if rg.inTree == -2 || rg.inTree >= 0 && !(suffixed && resourceless) {
		tree := rg.inTree
		ok := func(p *Provider, _ int32) bool { return tree >= 0 && p.Root == tree }
		if !suffixed {
			ok = func(p *Provider, a int32) bool { return tree >= 0 && a == tree && p.Root == a }
		}
		out = append(out, gfilter{name: "in_tree " + grp.InTree, k: -1, ok: ok,
			reason: func(*Provider) string { return "not in the tree of " + grp.InTree }})
	}
	if suffixed && resourceless && len(rg.required) == 0 && len(rg.memberOf) == 0 {
		// Quirk A1: without a positive constraint it matches nothing.
		out = append(out, gfilter{name: "resourceless group without required or member_of", k: -1,
			ok:     func(*Provider, int32) bool { return false },
			reason: func(*Provider) string { return "a resourceless group needs required or member_of" }})
	}
	return out
}

// anyOf renders one any-of set: "HW_CPU_X86_AVX2", or "in:A,B".
func anyOf(names []string, noun string) string {
	if len(names) == 1 {
		return noun + " " + names[0]
	}
	return "any of " + noun + "s " + strings.Join(sortedCopy(names), ", ")
}

func sortedCopy(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// resolveGroup maps a group's names to snapshot ids like generator.resolve
// does, except that a name the snapshot does not know becomes -1 (which
// no provider has) instead of ending the request, so that the funnel can
// show the step it empties. An unknown in_tree becomes -2.
func (x *explainer) resolveGroup(grp *Group) *rgroup {
	s := x.s
	rg := &rgroup{suffix: grp.Suffix, suffixed: grp.Suffix != "", inTree: -1}
	lookup := func(index func(string) (int32, bool), names []string) []int32 {
		var out []int32
		for _, n := range names {
			id, ok := index(n)
			if !ok {
				id = -1
			}
			out = append(out, id)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	for _, r := range grp.Resources {
		c, ok := s.classIndex(r.Class)
		if !ok {
			c = -1
		}
		rg.classes = append(rg.classes, c)
		rg.amounts = append(rg.amounts, r.Amount)
	}
	for _, set := range grp.Required {
		rg.required = append(rg.required, lookup(s.traitIndex, set))
	}
	rg.forbidden = slices.DeleteFunc(lookup(s.traitIndex, grp.Forbidden), func(id int32) bool { return id < 0 })
	for _, set := range grp.MemberOf {
		rg.memberOf = append(rg.memberOf, lookup(s.aggIndex, set))
	}
	rg.forbAggs = slices.DeleteFunc(lookup(s.aggIndex, grp.ForbiddenAggs), func(id int32) bool { return id < 0 })
	if grp.InTree != "" {
		rg.inTree = -2
		if p, ok := s.ProviderByUUID(grp.InTree); ok {
			rg.inTree = s.Provider(p).Root
		}
	}
	return rg
}

// groupOptions runs the generator's option building for group grp alone
// under every root: the roots where it finds options, and the providers
// of those options.
func (x *explainer) groupOptions(grp *Group) (roots, provs []int32, err error) {
	one := &Request{Groups: []Group{*grp}, NestedAware: x.req.NestedAware}
	g := &generator{s: x.s, req: one, opt: Options{MemoryLimit: x.opt.MemoryLimit}, ctx: x.ctx, others: len(x.req.Groups) > 1}
	if !g.resolve() || !g.prepare(&g.groups[0]) {
		return nil, nil, nil
	}
	if g.others && grp.Suffix == "" {
		g.upstream = upstreamTreesOf(x.s, x.req, grp) // root_required orders it too
	}
	seen := map[int32]bool{}
	for _, a := range x.s.roots {
		g.mem = 0
		ok := g.options(a)
		if g.err != nil {
			return nil, nil, g.err
		}
		if !ok {
			continue
		}
		roots = append(roots, a)
		for _, p := range g.groups[0].opts {
			if !seen[p] {
				seen[p] = true
				provs = append(provs, p)
			}
		}
	}
	return roots, provs, nil
}

// collectiveReason explains a tree that fails the group's option building
// although each of its slots kept a provider.
func (x *explainer) collectiveReason(grp *Group) string {
	if grp.Suffix != "" {
		return "a resourceless group needs required or member_of"
	}
	var sets []string
	for _, set := range grp.Required {
		sets = append(sets, strings.Join(set, " or "))
	}
	return fmt.Sprintf("no combination of providers that fits the resources has the required traits (%s)", strings.Join(sets, "; "))
}

// combine computes the combined steps up to, not including, the returned
// candidates: every group, the root filters, then the walk with each
// combining rule added in turn.
func (x *explainer) combine(every []int32) ([]Step, error) {
	s, req := x.s, x.req
	var steps []Step
	// Providers of a combined step are those of the surviving roots'
	// trees and of the sharing providers anchored to them.
	step := func(name, reason string, roots []int32) {
		st := Step{Name: name, Roots: len(roots), roots: roots}
		seen := map[int32]bool{}
		for _, r := range roots {
			for _, p := range s.tree(r) {
				seen[p] = true
			}
		}
		for _, p := range s.sharing {
			for _, a := range s.anchors(p) {
				if _, ok := slices.BinarySearch(roots, a); ok {
					seen[p] = true
				}
			}
		}
		st.Providers = len(seen)
		for p := range seen {
			if s.Provider(p).Sharing {
				st.Sharing++
			}
		}
		steps = append(steps, st)
		if x.root >= 0 {
			if _, ok := slices.BinarySearch(roots, x.root); !ok {
				x.fail(noGroup, name, reason)
			}
		}
	}
	step("every group", "some group cannot be placed under this root", every)
	roots := every
	for _, t := range req.RootRequired {
		id, known := s.traitIndex(t)
		roots = slices.DeleteFunc(slices.Clone(roots), func(r int32) bool {
			return !known || !hasAny(s.Provider(r).traits, []int32{id})
		})
		step("root_required "+t, "root lacks required trait "+t, roots)
	}
	for _, t := range req.RootForbidden {
		id, known := s.traitIndex(t)
		roots = slices.DeleteFunc(slices.Clone(roots), func(r int32) bool {
			return known && hasAny(s.Provider(r).traits, []int32{id})
		})
		step("root_required !"+t, "root has forbidden trait "+t, roots)
	}
	variant := *req
	variant.GroupPolicy, variant.SameSubtree, variant.Limit = "", nil, 1
	var err error
	if roots, err = x.viable(roots, &variant, false); err != nil {
		return nil, err
	}
	step("amounts of all groups together",
		"each group fits on its own, but not all of them at once on the providers they share", roots)
	suffixed := 0
	for _, g := range req.Groups {
		if g.Suffix != "" {
			suffixed++
		}
	}
	if req.Isolate() && suffixed > 1 {
		variant.GroupPolicy = req.GroupPolicy
		if roots, err = x.viable(roots, &variant, false); err != nil {
			return nil, err
		}
		step("group_policy=isolate", "the suffixed groups cannot each be placed on a different provider", roots)
	}
	for _, set := range req.SameSubtree {
		variant.SameSubtree = append(slices.Clip(variant.SameSubtree), set)
		if roots, err = x.viable(roots, &variant, false); err != nil {
			return nil, err
		}
		step("same_subtree="+strings.Join(set, ","),
			"groups "+strings.Join(set, ", ")+" cannot be placed below one common provider", roots)
	}
	if !req.NestedAware && s.Nested {
		if roots, err = x.viable(roots, &variant, true); err != nil {
			return nil, err
		}
		step("one provider per tree below microversion 1.29",
			"every candidate under this root uses several providers of one tree, which microversions below 1.29 hide", roots)
	}
	return steps, nil
}

// viable runs the generator's walk under each of roots (ascending) alone,
// with req (whose Limit is 1: one candidate is enough), and returns the
// roots under which it finds a candidate. Each root is judged on its own:
// a candidate that duplicates one of an earlier root counts.
func (x *explainer) viable(roots []int32, req *Request, legacy bool) ([]int32, error) {
	if len(roots) == 0 {
		return nil, nil
	}
	g := &generator{s: x.s, req: req, opt: Options{MemoryLimit: x.opt.MemoryLimit}, legacy: legacy, ctx: x.ctx}
	if !g.resolve() {
		return nil, nil
	}
	for i := range g.groups {
		if !g.prepare(&g.groups[i]) {
			return nil, nil
		}
	}
	var out []int32
	for _, a := range roots {
		g.stop, g.done, g.mem, g.seen = false, false, 0, nil
		g.results, g.stack = g.results[:0], g.stack[:0]
		g.allocArena, g.provArena, g.mapArena = g.allocArena[:0], g.provArena[:0], g.mapArena[:0]
		if !g.rootAllowed(a) || !g.options(a) || !g.fits(0) {
			if g.err != nil {
				return nil, g.err
			}
			continue
		}
		g.begin(a)
		g.place(0)
		if g.err != nil {
			return nil, g.err
		}
		if len(g.results) > 0 {
			out = append(out, a)
		}
	}
	return out, nil
}

// cutReason explains a tree that passes every step but has no provider in
// the returned candidates.
func (x *explainer) cutReason() string {
	if x.req.Limit > 0 || x.opt.MaxCandidates > 0 {
		return "the tree can host the request, but the limit or [placement] max_allocation_candidates stopped generation before it"
	}
	return "the candidates placed under this tree allocate only from sharing providers of other trees"
}

// returned is the last step: the candidates Generate returned, and the
// roots of the providers they allocate from (ascending).
func (x *explainer) returned(res *Result) (Step, []int32) {
	name := "candidates returned"
	var cuts []string
	if x.req.Limit > 0 {
		cuts = append(cuts, fmt.Sprintf("limit=%d", x.req.Limit))
	}
	if x.opt.MaxCandidates > 0 {
		cuts = append(cuts, fmt.Sprintf("max_allocation_candidates=%d", x.opt.MaxCandidates))
	}
	if len(cuts) > 0 {
		name += " (" + strings.Join(cuts, ", ") + ")"
	}
	var provs, roots []int32
	for _, ar := range res.Requests {
		for _, a := range ar.Allocations {
			provs = append(provs, a.Provider)
			roots = append(roots, x.s.Provider(a.Provider).Root)
		}
	}
	slices.Sort(provs)
	provs = slices.Compact(provs)
	slices.Sort(roots)
	roots = slices.Compact(roots)
	n := len(res.Requests)
	st := Step{Name: name, Providers: len(provs), Roots: len(roots), Candidates: &n, roots: roots}
	for _, p := range provs {
		if x.s.Provider(p).Sharing {
			st.Sharing++
		}
	}
	return st, roots
}

// intersect returns the members of both ascending lists.
func intersect(a, b []int32) []int32 {
	var out []int32
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
