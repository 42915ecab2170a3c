package allocation

import (
	"net/http"

	"github.com/openstack-placement-go/placement/internal/handler/inventory"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// reshapeInventoriesJSON is the reshaper's inventories member: provider
// uuid → generation and the provider's complete inventory.
const reshapeInventoriesJSON = `{"type": "object",
	"patternProperties": {"^[0-9a-fA-F-]{36}$": {"type": "object",
		"properties": {
			"resource_provider_generation": {"type": "integer"},
			"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": ` + inventory.RecordSchema + `}}},
		"required": ["resource_provider_generation", "inventories"],
		"additionalProperties": false}},
	"minProperties": 1, "additionalProperties": false}`

func reshapeJSON(entry string) string {
	return `{"type": "object", "properties": {"inventories": ` + reshapeInventoriesJSON + `,
		"allocations": ` + consumersJSON("0", entry) + `},
		"required": ["inventories", "allocations"], "additionalProperties": false}`
}

var (
	reshape130 = schema.MustCompile("reshaper 1.30", reshapeJSON(entryJSON("0", true, false, false)))
	reshape134 = schema.MustCompile("reshaper 1.34", reshapeJSON(entryJSON("0", true, true, false)))
	reshape138 = schema.MustCompile("reshaper 1.38", reshapeJSON(entryJSON("0", true, true, true)))
)

// reshapeSchema returns the POST /reshaper body schema of microversion v
// (1.30+).
func reshapeSchema(v microversion.Version) *schema.Schema {
	return microversion.Pick(v, microversion.At(30, reshape130), microversion.At(34, reshape134), microversion.At(38, reshape138))
}

// reshapeWords are the reshaper's prefixes (spec 08 §4).
var reshapeWords = failureWords{"malformed reshaper data: ", "Unable to allocate inventory: ", "update conflict: "}

// Reshape answers POST /reshaper (1.30+): 204. Inventories and allocations
// are replaced in one transaction; the allocations are normalised as those
// of POST /allocations are.
func (h Handler) Reshape(w http.ResponseWriter, r *http.Request) error {
	invs, set, err := decodeReshape(r)
	if err != nil {
		return err
	}
	if err := h.Store.Reshape(r.Context(), invs, set); err != nil {
		return writeError(err, reshapeWords)
	}
	return web.NoContent(w, http.StatusNoContent)
}

// decodeReshape validates and normalises a POST /reshaper body of the
// request's microversion, providers and consumers in body order.
func decodeReshape(r *http.Request) ([]store.ReshapeInventory, placement.AllocationSet, error) {
	v := web.Version(r)
	doc, err := web.ReadJSON(r, reshapeSchema(v))
	if err != nil {
		return nil, nil, err
	}
	var n numbers
	var invs []store.ReshapeInventory
	var set placement.AllocationSet
	body := object(doc)
	for _, k := range body.Keys() {
		switch k {
		case "inventories":
			invs = reshapeInventories(object(body.Get(k)), &n)
		case "allocations":
			set = fromEntries(v, object(body.Get(k)), &n, "allocations.")
		}
	}
	if err := n.err(); err != nil {
		return nil, nil, err
	}
	return invs, set, nil
}

// reshapeInventories converts the inventories member. No capacity rule is
// checked: the reshaper stores what it is given.
func reshapeInventories(providers *pycompat.Object, n *numbers) []store.ReshapeInventory {
	out := make([]store.ReshapeInventory, 0, providers.Len())
	for _, rp := range providers.Keys() {
		spec := object(providers.Get(rp))
		ri := store.ReshapeInventory{ProviderUUID: rp, Inventories: map[string]placement.Inventory{}}
		for _, k := range spec.Keys() {
			switch k {
			case "resource_provider_generation":
				ri.Generation = n.int(spec.Get(k), ".inventories.resource_provider_generation")
				ri.GenerationText = spelling(spec.Get(k), ri.Generation)
			case "inventories":
				records := object(spec.Get(k))
				for _, rc := range records.Keys() {
					rec := object(records.Get(rc))
					n.record(rec)
					ri.Inventories[rc] = inventory.FromRecord(rec)
				}
			}
		}
		out = append(out, ri)
	}
	return out
}

// record checks the numbers of an inventory record as numbers.int does.
func (n *numbers) record(rec *pycompat.Object) {
	const field = "record.inventories.inventories."
	for _, k := range rec.Keys() {
		switch k {
		case "total", "reserved", "min_unit", "max_unit", "step_size":
			n.int(rec.Get(k), field+k)
		case "allocation_ratio":
			n.float(rec.Get(k), field+k)
		}
	}
}
