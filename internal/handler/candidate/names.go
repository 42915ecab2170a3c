package candidate

import (
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
// group its classes and then its traits.
func checkNames(req *engine.Request, found store.CandidateNames) error {
	checkTraits := func(names []string) error {
		for _, n := range names {
			if !slices.Contains(found.Traits, n) {
				return placement.E(placement.Invalid, msgNoTrait, n)
			}
		}
		return nil
	}
	if err := checkTraits(req.RootRequired); err != nil {
		return err
	}
	if err := checkTraits(req.RootForbidden); err != nil {
		return err
	}
	for _, g := range req.Groups {
		for _, r := range g.Resources {
			if !slices.Contains(found.Classes, r.Class) {
				return placement.E(placement.Invalid, msgNoClass, r.Class)
			}
		}
		for _, set := range g.Required {
			if err := checkTraits(set); err != nil {
				return err
			}
		}
		if err := checkTraits(g.Forbidden); err != nil {
			return err
		}
	}
	return nil
}
