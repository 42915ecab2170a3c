package placement

import "sort"

// ConsumerAllocations is the canonical form of one consumer's allocation
// write. Every writing endpoint (PUT and POST /allocations, POST /reshaper,
// whatever its microversion and wire format) normalises its body into this
// shape before calling the store.
type ConsumerAllocations struct {
	// ConsumerUUID is the consumer: the canonicalised path id of a PUT, the
	// body key (verbatim) of a POST or reshape.
	ConsumerUUID string
	// ProjectID and UserID are external ids; never empty after
	// normalisation (below 1.8 they come from configuration).
	ProjectID string
	UserID    string
	// Generation is the consumer generation the client expects; nil means
	// JSON null, "the consumer must be new". Only consulted when
	// CheckGeneration is set (microversion 1.28+).
	Generation      *int
	CheckGeneration bool
	// ConsumerType is the type to record (1.38+); nil leaves an existing
	// consumer's type alone and creates new consumers without one.
	ConsumerType *string
	// Allocations maps provider uuid → resource class → amount. An empty
	// map removes every allocation of the consumer.
	Allocations map[string]map[string]int
	// Order lists the (provider, class) pairs of Allocations in body order:
	// the write path checks rows in this order, so the first failing row of
	// the body names the error, as upstream. Nil (or not matching
	// Allocations): sorted order.
	Order []AllocationKey
}

// AllocationKey names one (provider, resource class) pair of a write.
type AllocationKey struct{ Provider, Class string }

// Rows returns the (provider, class) pairs of Allocations in body order
// when Order lists exactly them, otherwise sorted by provider, then class.
// The pairs of one provider are adjacent.
func (c ConsumerAllocations) Rows() []AllocationKey {
	n := 0
	for _, res := range c.Allocations {
		n += len(res)
	}
	if len(c.Order) == n && c.orderMatches() {
		return c.Order
	}
	keys := make([]AllocationKey, 0, n)
	for _, rp := range SortedKeys(c.Allocations) {
		for _, rc := range SortedKeys(c.Allocations[rp]) {
			keys = append(keys, AllocationKey{rp, rc})
		}
	}
	return keys
}

// orderMatches reports whether Order names distinct pairs of Allocations
// with each provider's pairs adjacent.
func (c ConsumerAllocations) orderMatches() bool {
	seen := map[AllocationKey]bool{}
	done := map[string]bool{}
	for i, k := range c.Order {
		if _, ok := c.Allocations[k.Provider][k.Class]; !ok || seen[k] || done[k.Provider] {
			return false
		}
		seen[k] = true
		if i+1 < len(c.Order) && c.Order[i+1].Provider != k.Provider {
			done[k.Provider] = true
		}
	}
	return true
}

// AllocationSet is an ordered list of consumer writes (body order for
// POST, one element for PUT) applied atomically.
type AllocationSet []ConsumerAllocations

// IncompleteConsumerID is the default of [placement]
// incomplete_consumer_project_id / incomplete_consumer_user_id.
const IncompleteConsumerID = "00000000-0000-0000-0000-000000000000"

// SortedKeys returns the keys of m in ascending order; the write path walks
// providers and classes in this order so that errors are deterministic.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
