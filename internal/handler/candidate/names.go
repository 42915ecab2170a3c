package candidate

import (
	"context"
	"slices"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

// Messages for unknown names in GET /allocation_candidates (spec 07 §3 step 8).
const (
	msgNoClass = "Invalid resource class in resources parameter: No such resource class %s."
	msgNoTrait = "No such trait(s): %s."
)

// checkNames reports the first class or trait of req missing from the
// existing ones, in upstream's order: root_required traits, then per
// group its classes and then its traits. group is the index of the group
// that names it (-1 for root_required); trait tells a trait from a class.
func checkNames(req *engine.Request, found store.CandidateNames) (group int, trait bool, err error) {
	checkTraits := func(names []string) error {
		for _, n := range names {
			if !slices.Contains(found.Traits, n) {
				return placement.E(placement.Invalid, msgNoTrait, n)
			}
		}
		return nil
	}
	if err := checkTraits(req.RootRequired); err != nil {
		return -1, true, err
	}
	if err := checkTraits(req.RootForbidden); err != nil {
		return -1, true, err
	}
	for i, g := range req.Groups {
		for _, r := range g.Resources {
			if !slices.Contains(found.Classes, r.Class) {
				return i, false, placement.E(placement.Invalid, msgNoClass, r.Class)
			}
		}
		for _, set := range g.Required {
			if err := checkTraits(set); err != nil {
				return i, true, err
			}
		}
		if err := checkTraits(g.Forbidden); err != nil {
			return i, true, err
		}
	}
	return 0, false, nil
}

// shortCircuited reports whether the original service answers req with
// no candidates before it notices the unknown name of group k (a trait
// when trait is set). After resolving the root_required traits, it
// answers empty if no root provider passes them. Then it takes one group
// at a time, in request order: it resolves the group's classes; answers
// empty if the group's member_of matches no provider at all; resolves the
// group's traits; then searches the group alone (under the root filters)
// and answers empty if nothing serves it, before it looks at the next
// group. So a later unknown name goes unnoticed. The search of a group
// alone ignores the microversion: below 1.29 upstream drops the
// candidates that use several providers of one tree only from the
// combined answer.
func shortCircuited(ctx context.Context, st *store.Store, req *engine.Request, k int, trait bool, opts engine.Options) (bool, error) {
	if k < 0 {
		return false, nil
	}
	if len(req.RootRequired)+len(req.RootForbidden) > 0 {
		if none, err := st.RootsMatchNothing(ctx, req.RootRequired, req.RootForbidden); err != nil || none {
			return none, err
		}
	}
	if g := req.Groups[k]; trait && len(g.MemberOf) > 0 {
		if none, err := st.MemberOfMatchesNothing(ctx, g.MemberOf); err != nil || none {
			return none, err
		}
	}
	if k == 0 {
		return false, nil
	}
	earlier := *req
	earlier.Groups, earlier.SameSubtree = req.Groups[:k], nil
	snap, _, err := st.CandidateSnapshot(ctx, &earlier)
	if err != nil {
		return false, err
	}
	opts.Randomize, opts.MaxCandidates = false, 1
	for _, g := range earlier.Groups {
		alone := engine.Request{Groups: []engine.Group{g}, RootRequired: req.RootRequired,
			RootForbidden: req.RootForbidden, NestedAware: true}
		res, err := engine.Generate(ctx, snap, &alone, opts)
		if err != nil {
			return false, err
		}
		if len(res.Requests) == 0 {
			return true, nil
		}
	}
	return false, nil
}
