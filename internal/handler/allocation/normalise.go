package allocation

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
)

// The functions below turn a validated body (web.ReadJSON) into the
// canonical placement.AllocationSet. The schema has checked every type, so
// they read values without checking them again, and they walk each object
// in body order: the write path checks rows in that order, so that the
// first failing row of the body names the error, as upstream.

// incompleteIDs holds the configured project and user of writes that carry
// none (microversions 1.0–1.7).
type incompleteIDs struct{ ProjectID, UserID string }

// fromList folds the PUT body of 1.0–1.11, a list of provider items, into
// the canonical form. A provider named twice keeps its first position and
// only its last item's resources (no merge).
func fromList(consumerUUID string, body *pycompat.Object, inc incompleteIDs, n *numbers) placement.ConsumerAllocations {
	w := placement.ConsumerAllocations{ConsumerUUID: consumerUUID, ProjectID: inc.ProjectID, UserID: inc.UserID,
		Allocations: map[string]map[string]int{}}
	var providers []string
	classes := map[string][]string{}
	for _, k := range body.Keys() {
		switch v := body.Get(k); k {
		case "allocations":
			items, _ := v.([]any)
			for _, it := range items {
				item, _ := it.(*pycompat.Object)
				rp, _ := object(item.Get("resource_provider")).Get("uuid").(string)
				if _, seen := w.Allocations[rp]; !seen {
					providers = append(providers, rp)
				}
				res := object(item.Get("resources"))
				w.Allocations[rp] = n.amounts(res, ".allocations.resources")
				classes[rp] = res.Keys()
			}
		case "project_id":
			w.ProjectID, _ = v.(string)
		case "user_id":
			w.UserID, _ = v.(string)
		}
	}
	for _, rp := range providers {
		for _, rc := range classes[rp] {
			w.Order = append(w.Order, placement.AllocationKey{Provider: rp, Class: rc})
		}
	}
	return w
}

// fromEntry converts one consumer of the 1.12+ dict form: the PUT body, a
// POST value or a reshaper allocations value. The consumer generation is
// only checked from 1.28 on (a null one then means "new consumer"); the
// schema makes consumer_type present exactly from 1.38 on. Per-provider
// "generation" and "mappings" are accepted and ignored. in is where the
// entry sits in the body, for the error text of numbers (see numbers).
func fromEntry(v microversion.Version, consumerUUID string, e *pycompat.Object, n *numbers, in string) placement.ConsumerAllocations {
	w := placement.ConsumerAllocations{ConsumerUUID: consumerUUID, CheckGeneration: v.AtLeast(1, 28),
		Allocations: map[string]map[string]int{}}
	for _, k := range e.Keys() {
		switch val := e.Get(k); k {
		case "allocations":
			providers := object(val)
			for _, rp := range providers.Keys() {
				res := object(object(providers.Get(rp)).Get("resources"))
				w.Allocations[rp] = n.amounts(res, "."+in+"allocations.resources")
				for _, rc := range res.Keys() {
					w.Order = append(w.Order, placement.AllocationKey{Provider: rp, Class: rc})
				}
			}
		case "project_id":
			w.ProjectID, _ = val.(string)
		case "user_id":
			w.UserID, _ = val.(string)
		case "consumer_generation":
			if val != nil {
				g := n.int(val, "Entry."+in+"consumer_generation")
				w.Generation, w.GenerationText = &g, spelling(val, g)
			}
		case "consumer_type":
			if t, ok := val.(string); ok {
				w.ConsumerType = &t
			}
		}
	}
	return w
}

// fromEntries converts the consumers of a POST body (or the reshaper's
// allocations member) in body order.
func fromEntries(v microversion.Version, consumers *pycompat.Object, n *numbers, in string) placement.AllocationSet {
	set := make(placement.AllocationSet, 0, consumers.Len())
	for _, c := range consumers.Keys() {
		set = append(set, fromEntry(v, c, object(consumers.Get(c)), n, in))
	}
	return set
}

// object returns v as an object; anything else reads as an empty one.
func object(v any) *pycompat.Object {
	o, _ := v.(*pycompat.Object)
	return o
}

// numbers converts the numbers of one body. The schema accepts integral
// floats such as 16.0 for integers; a value an int (or float64) cannot
// hold is refused with the text these bodies got when encoding/json
// decoded them: it names the first number in body order that was not a
// plain integer literal, and the Go struct field (field) that held it.
type numbers struct {
	first error // that first number's error
	bad   bool  // a number has no int (or float64) value
}

// int returns the value of the integer v; field names it for the error.
//
// An integer beyond int64 (a generation or an amount no column can hold)
// is clamped to the nearest int64: it can match no generation and passes
// no max_unit, as upstream's unbounded ints.
func (n *numbers) int(v any, field string) int {
	s, _ := v.(json.Number)
	i, err := strconv.ParseInt(string(s), 10, 64)
	if err == nil || errors.Is(err, strconv.ErrRange) {
		return int(i) // ParseInt clamps out-of-range values
	}
	n.note(s, field, "int")
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != math.Trunc(f) {
		n.bad = true
		return 0
	}
	switch {
	case f >= 9.2e18:
		return math.MaxInt64
	case f <= -9.2e18:
		return math.MinInt64
	}
	return int(f)
}

// float checks that the number v has a float64 value.
func (n *numbers) float(v any, field string) {
	s, _ := v.(json.Number)
	if _, err := strconv.ParseFloat(string(s), 64); err != nil {
		n.note(s, field, "float64")
		n.bad = true
	}
}

func (n *numbers) note(s json.Number, field, typ string) {
	if n.first == nil {
		n.first = placement.E(placement.Invalid,
			"JSON does not validate: json: cannot unmarshal number %s into Go struct field %s of type %s", s, field, typ)
	}
}

// amounts returns the resource class → amount map of a resources object.
func (n *numbers) amounts(res *pycompat.Object, field string) map[string]int {
	out := make(map[string]int, res.Len())
	for _, rc := range res.Keys() {
		out[rc] = n.int(res.Get(rc), field)
	}
	return out
}

// err returns the error for the body's numbers, or nil.
func (n *numbers) err() error {
	if n.bad {
		return n.first
	}
	return nil
}

// canonicalUUID returns the 8-4-4-4-12 lower-case form of a UUID-like
// string (urn:/uuid: prefixes, braces and dashes anywhere tolerated, as
// Python's uuid.UUID does), or false.
func canonicalUUID(s string) (string, bool) {
	if !schema.IsUUIDLike(s) {
		return "", false
	}
	h := strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	h = strings.ToLower(strings.ReplaceAll(strings.Trim(h, "{}"), "-", ""))
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]), true
}

// spelling is Python's str() of the JSON number v when it is not how the
// integer i reads ("1.0" for 1.0, "" for 1): upstream's messages echo what
// the client sent.
func spelling(v any, i int) string {
	if n, ok := pycompat.NumberOf(v); ok && n.Repr() != strconv.Itoa(i) {
		return n.Repr()
	}
	return ""
}
