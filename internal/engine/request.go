package engine

import (
	"slices"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// Resource is one requested amount of a resource class.
type Resource = placement.ResourceAmount

// Group is one request group: the unsuffixed group (Suffix "") may be
// satisfied by several providers of one tree plus sharing providers; a
// suffixed group by exactly one provider.
type Group struct {
	Suffix    string
	Resources []Resource // in order of first mention; empty for a resourceless group
	// Required is a list of any-of sets, ANDed.
	Required  [][]string
	Forbidden []string
	// MemberOf is a list of any-of aggregate sets, ANDed.
	MemberOf      [][]string
	ForbiddenAggs []string
	InTree        string // provider uuid, "" for none
}

// Request is a GET /allocation_candidates query, parsed and validated by
// the handler (handler/candidate.ParseQuery).
type Request struct {
	Groups []Group // in order of their first parameter in the query string
	// Limit is the first limit value; 0 means none.
	Limit int
	// GroupPolicy is the first group_policy value ("" when absent). Only
	// "isolate" changes anything.
	GroupPolicy   string
	RootRequired  []string
	RootForbidden []string
	SameSubtree   [][]string // each occurrence, duplicates collapsed, sorted
	// NestedAware is microversion >= 1.29: combinations of several providers
	// of one tree are allowed.
	NestedAware bool
}

// Isolate reports whether suffixed groups must land on distinct providers.
func (r *Request) Isolate() bool { return r.GroupPolicy == "isolate" }

// Classes returns every resource class named by some group, each once, in
// order of first mention.
func (r *Request) Classes() []string {
	var out []string
	for _, g := range r.Groups {
		for _, res := range g.Resources {
			if !slices.Contains(out, res.Class) {
				out = append(out, res.Class)
			}
		}
	}
	return out
}

// Traits returns every trait name the request mentions (root_required
// first, then per group required and forbidden), each once, in the order
// their existence must be checked (spec 07 §3 step 8).
func (r *Request) Traits() []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	add(r.RootRequired...)
	add(r.RootForbidden...)
	for _, g := range r.Groups {
		for _, set := range g.Required {
			add(set...)
		}
		add(g.Forbidden...)
	}
	return out
}
