// Package reshaper serves POST /reshaper (1.30+): inventories and
// allocations replaced in one transaction. The allocations part is
// normalised exactly like POST /allocations.
package reshaper

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/openstack-placement-go/placement/internal/handler/allocation"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves POST /reshaper.
type Handler struct {
	Store *store.Store
}

// recordJSON is an inventory record (spec 08 §1.1), as PUT …/inventories
// takes it.
const recordJSON = `{"type": "object", "properties": {
		"resource_provider_generation": {"type": "integer"},
		"total":     {"type": "integer", "maximum": 2147483647, "minimum": 1},
		"reserved":  {"type": "integer", "maximum": 2147483647, "minimum": 0},
		"min_unit":  {"type": "integer", "maximum": 2147483647, "minimum": 1},
		"max_unit":  {"type": "integer", "maximum": 2147483647, "minimum": 1},
		"step_size": {"type": "integer", "maximum": 2147483647, "minimum": 1},
		"allocation_ratio": {"type": "number", "maximum": 3.40282e+38}},
	"required": ["total"], "additionalProperties": false}`

const inventoriesJSON = `{"type": "object",
	"patternProperties": {"^[0-9a-fA-F-]{36}$": {"type": "object",
		"properties": {
			"resource_provider_generation": {"type": "integer"},
			"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": ` + recordJSON + `}}},
		"required": ["resource_provider_generation", "inventories"],
		"additionalProperties": false}},
	"minProperties": 1, "additionalProperties": false}`

func bodyJSON(entry string) string {
	return `{"type": "object", "properties": {"inventories": ` + inventoriesJSON + `,
		"allocations": ` + allocation.ConsumersJSON("0", entry) + `},
		"required": ["inventories", "allocations"], "additionalProperties": false}`
}

var (
	schema130 = schema.MustCompile("reshaper 1.30", bodyJSON(allocation.EntryJSON("0", true, false, false)))
	schema134 = schema.MustCompile("reshaper 1.34", bodyJSON(allocation.EntryJSON("0", true, true, false)))
	schema138 = schema.MustCompile("reshaper 1.38", bodyJSON(allocation.EntryJSON("0", true, true, true)))
)

func bodySchema(v microversion.Version) *schema.Schema {
	switch {
	case v.AtLeast(1, 38):
		return schema138
	case v.AtLeast(1, 34):
		return schema134
	}
	return schema130
}

type record struct {
	Total           int      `json:"total"`
	Reserved        *int     `json:"reserved"`
	MinUnit         *int     `json:"min_unit"`
	MaxUnit         *int     `json:"max_unit"`
	StepSize        *int     `json:"step_size"`
	AllocationRatio *float64 `json:"allocation_ratio"`
}

type body struct {
	Inventories map[string]struct {
		Generation  int               `json:"resource_provider_generation"`
		Inventories map[string]record `json:"inventories"`
	} `json:"inventories"`
	Allocations map[string]allocation.Entry `json:"allocations"`
}

// toInventory applies the defaults of spec 08 §1.1. No capacity
// validation: the reshaper stores what it is given.
func toInventory(r record) placement.Inventory {
	or := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	inv := placement.Inventory{Total: r.Total, Reserved: or(r.Reserved, 0), MinUnit: or(r.MinUnit, 1),
		MaxUnit: or(r.MaxUnit, 2147483647), StepSize: or(r.StepSize, 1), AllocationRatio: 1.0}
	if r.AllocationRatio != nil {
		inv.AllocationRatio = *r.AllocationRatio
	}
	return inv
}

// Reshape answers POST /reshaper: 204.
func (h Handler) Reshape(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(r.Body)
	var rest io.Reader = bytes.NewReader(data)
	if err != nil { // let DecodeBody report it
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	v := web.Version(r)
	var b body
	if _, err := web.DecodeBody(r, bodySchema(v), &b); err != nil {
		return err
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top)
	invKeys := allocation.ObjectKeys(top["inventories"])
	if len(invKeys) != len(b.Inventories) {
		invKeys = placement.SortedKeys(b.Inventories)
	}
	invs := make([]store.ReshapeInventory, 0, len(b.Inventories))
	for _, rp := range invKeys {
		spec := b.Inventories[rp]
		ri := store.ReshapeInventory{ProviderUUID: rp, Generation: spec.Generation, Inventories: map[string]placement.Inventory{}}
		for rc, rec := range spec.Inventories {
			ri.Inventories[rc] = toInventory(rec)
		}
		invs = append(invs, ri)
	}
	set := allocation.FromEntries(v, b.Allocations, allocation.ObjectKeys(top["allocations"]))
	allocation.WithBodyOrder(set, top["allocations"])
	if err := h.Store.Reshape(r.Context(), invs, set); err != nil {
		return reshapeError(err)
	}
	return web.NoContent(w, http.StatusNoContent)
}

// reshapeError adds the reshaper's prefixes (spec 08 §4).
func reshapeError(err error) error {
	var pe *placement.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(err, store.ErrAllocationUnknownClass):
		return placement.E(placement.Invalid, "malformed reshaper data: %s", pe.Message)
	case errors.Is(err, store.ErrAllocationInvalid):
		return placement.E(placement.Conflict, "Unable to allocate inventory: %s", pe.Message)
	case errors.Is(err, store.ErrAllocationConcurrentUpdate):
		return placement.E(placement.Conflict, "update conflict: %s", pe.Message).WithCode(placement.CodeConcurrentUpdate)
	}
	return err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
