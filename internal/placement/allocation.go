package placement

import (
	"sort"
	"strconv"
)

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
	// GenerationText is Generation as the client wrote it, in Python's
	// str() of the JSON number ("1.0" for 1.0), for conflict messages;
	// empty: the integer.
	GenerationText string
	// ConsumerType is the type to record (1.38+); nil leaves an existing
	// consumer's type alone and creates new consumers without one.
	ConsumerType *string
	// Allocations maps provider uuid → resource class → amount. An empty
	// map removes every allocation of the consumer.
	Allocations map[string]map[string]int
	// Order lists the (provider, class) pairs of Allocations in body order,
	// each provider's pairs adjacent: the write path checks rows in this
	// order, so the first failing row of the body names the error, as
	// upstream. The handlers build it with Allocations from the same
	// document. Nil: sorted order.
	Order []AllocationKey
}

// AllocationKey names one (provider, resource class) pair of a write.
type AllocationKey struct{ Provider, Class string }

// Rows returns the (provider, class) pairs of Allocations: Order when it
// is set, otherwise sorted by provider, then class.
func (c ConsumerAllocations) Rows() []AllocationKey {
	if c.Order != nil {
		return c.Order
	}
	var keys []AllocationKey
	for _, rp := range SortedKeys(c.Allocations) {
		for _, rc := range SortedKeys(c.Allocations[rp]) {
			keys = append(keys, AllocationKey{rp, rc})
		}
	}
	return keys
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

// GenerationString is the generation the client expects as upstream's
// conflict messages name it: None for null, else as the client wrote it.
func (w ConsumerAllocations) GenerationString() string {
	switch {
	case w.Generation == nil:
		return "None"
	case w.GenerationText != "":
		return w.GenerationText
	}
	return strconv.Itoa(*w.Generation)
}
