package allocation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
)

// listBody is the PUT body of 1.0–1.11: a list of provider items.
type listBody struct {
	Allocations []struct {
		ResourceProvider struct {
			UUID string `json:"uuid"`
		} `json:"resource_provider"`
		Resources map[string]int `json:"resources"`
	} `json:"allocations"`
	ProjectID *string `json:"project_id"`
	UserID    *string `json:"user_id"`
}

// Entry is one consumer of the 1.12+ dict form: the PUT body, a POST value,
// a reshaper allocations value. Per-provider "generation" and "mappings"
// are not decoded: they are accepted and ignored.
type Entry struct {
	Allocations map[string]struct {
		Resources map[string]int `json:"resources"`
	} `json:"allocations"`
	ProjectID          string  `json:"project_id"`
	UserID             string  `json:"user_id"`
	ConsumerGeneration *int    `json:"consumer_generation"`
	ConsumerType       *string `json:"consumer_type"`
}

// Incomplete holds the configured project and user of writes that carry
// none (microversions 1.0–1.7).
type Incomplete struct{ ProjectID, UserID string }

// fromList folds the list form into the canonical form: a provider named
// twice keeps only its last item's resources (no merge).
func fromList(consumerUUID string, body listBody, inc Incomplete) placement.ConsumerAllocations {
	allocs := make(map[string]map[string]int, len(body.Allocations))
	for _, item := range body.Allocations {
		allocs[item.ResourceProvider.UUID] = item.Resources
	}
	w := placement.ConsumerAllocations{ConsumerUUID: consumerUUID, ProjectID: inc.ProjectID, UserID: inc.UserID, Allocations: allocs}
	if body.ProjectID != nil {
		w.ProjectID = *body.ProjectID
	}
	if body.UserID != nil {
		w.UserID = *body.UserID
	}
	return w
}

// FromEntry converts one dict-form consumer entry. The consumer generation
// is only checked from 1.28 on (a null one then means "new consumer"); the
// schema makes consumer_type present exactly from 1.38 on.
func FromEntry(v microversion.Version, consumerUUID string, e Entry) placement.ConsumerAllocations {
	allocs := make(map[string]map[string]int, len(e.Allocations))
	for rp, a := range e.Allocations {
		allocs[rp] = a.Resources
	}
	return placement.ConsumerAllocations{
		ConsumerUUID:    consumerUUID,
		ProjectID:       e.ProjectID,
		UserID:          e.UserID,
		Generation:      e.ConsumerGeneration,
		CheckGeneration: v.AtLeast(1, 28),
		ConsumerType:    e.ConsumerType,
		Allocations:     allocs,
	}
}

// FromEntries converts the POST (or reshaper) consumers in body order; keys
// lists the consumer uuids in that order (unknown order: nil, sorted).
func FromEntries(v microversion.Version, entries map[string]Entry, keys []string) placement.AllocationSet {
	if len(keys) != len(entries) {
		keys = placement.SortedKeys(entries)
	}
	set := make(placement.AllocationSet, 0, len(entries))
	for _, k := range keys {
		set = append(set, FromEntry(v, k, entries[k]))
	}
	return set
}

// ObjectKeys returns the keys of the top-level JSON object in data in
// document order, each once; nil if data is not an object.
func ObjectKeys(data []byte) []string {
	keys, _ := objectMembers(data)
	return keys
}

// objectMembers returns the keys of the JSON object in data in document
// order (first occurrence) and each key's last value, as Python's json
// module keeps them; nil if data is not an object.
func objectMembers(data []byte) ([]string, map[string]json.RawMessage) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	return keys, vals
}

// dictOrder returns the (provider, class) pairs of a dict-form
// "allocations" object in body order.
func dictOrder(data []byte) []placement.AllocationKey {
	var order []placement.AllocationKey
	rps, vals := objectMembers(data)
	for _, rp := range rps {
		_, entry := objectMembers(vals[rp])
		classes, _ := objectMembers(entry["resources"])
		for _, rc := range classes {
			order = append(order, placement.AllocationKey{Provider: rp, Class: rc})
		}
	}
	return order
}

// listOrder returns the pairs of a 1.0–1.11 "allocations" list in body
// order: a provider named twice keeps its first position and the classes
// of its last item (fromList keeps the last item's resources).
func listOrder(data []byte) []placement.AllocationKey {
	var items []json.RawMessage
	if json.Unmarshal(data, &items) != nil {
		return nil
	}
	var rps []string
	last := map[string]json.RawMessage{}
	for _, it := range items {
		_, item := objectMembers(it)
		_, rp := objectMembers(item["resource_provider"])
		var uuid string
		_ = json.Unmarshal(rp["uuid"], &uuid)
		if _, seen := last[uuid]; !seen {
			rps = append(rps, uuid)
		}
		last[uuid] = item["resources"]
	}
	var order []placement.AllocationKey
	for _, rp := range rps {
		classes, _ := objectMembers(last[rp])
		for _, rc := range classes {
			order = append(order, placement.AllocationKey{Provider: rp, Class: rc})
		}
	}
	return order
}

// WithBodyOrder records in each write of set the body order of its
// allocations, read from consumers: the raw POST body or the reshaper's
// "allocations" object (consumer uuid → entry).
func WithBodyOrder(set placement.AllocationSet, consumers []byte) {
	_, entries := objectMembers(consumers)
	for i := range set {
		_, e := objectMembers(entries[set[i].ConsumerUUID])
		set[i].Order = dictOrder(e["allocations"])
	}
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
