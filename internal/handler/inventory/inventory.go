// Package inventory serves /resource_providers/{uuid}/inventories and
// /resource_providers/{uuid}/inventories/{resource_class} (spec 03).
package inventory

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the inventory endpoints.
type Handler struct {
	Store *store.Store
}

// msgGenerationConflict answers a PUT whose generation is not the
// provider's current one.
const msgGenerationConflict = "resource provider generation conflict"

// provider loads the provider named in the path. GETs repeat the message
// ("… found : … found"), as upstream does.
func (h Handler) provider(r *http.Request, doubled bool) (store.Provider, error) {
	p, err := h.Store.ProviderByUUID(r.Context(), chi.URLParam(r, "uuid"))
	if doubled && placement.KindOf(err) == placement.NotFound {
		return p, placement.E(placement.NotFound, "%s : %s", err, err)
	}
	return p, err
}

// providerAndBody looks up the path's provider, so that a missing one is
// a 404 whatever the body, and then decodes the body against sch.
func (h Handler) providerAndBody(r *http.Request, sch *schema.Schema) (store.Provider, body, error) {
	var b body
	p, err := h.provider(r, false)
	if err != nil {
		return p, b, err
	}
	_, err = web.DecodeBody(r, sch, &b)
	return p, b, err
}

// generation compares the generation the client sent with the provider's.
func generation(n json.Number, p store.Provider) (int, error) {
	gen := toInt(n)
	if !isIntegral(n) || gen != p.Generation {
		return 0, errGenerationConflict()
	}
	return gen, nil
}

// isIntegral reports whether the token is an integral value in int range
// (the schema has checked "integer"; this guards the conversion).
func isIntegral(n json.Number) bool {
	f := toFloat(n)
	return f == float64(int64(f))
}

// List answers GET …/inventories.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	p, err := h.provider(r, true)
	if err != nil {
		return err
	}
	invs, last, err := h.Store.Inventories(r.Context(), p)
	if err != nil {
		return err
	}
	out := collection{Generation: p.Generation, Inventories: make(map[string]record, len(invs))}
	for class, inv := range invs {
		out.Inventories[class] = fromInventory(inv)
	}
	if len(invs) == 0 {
		web.NoCacheOnly(w, r)
	} else {
		web.CacheHeaders(w, r, last)
	}
	return web.JSON(w, http.StatusOK, out)
}

// Create answers POST …/inventories: 201 with the stored record, the new
// generation and a Location.
func (h Handler) Create(w http.ResponseWriter, r *http.Request) error {
	p, b, err := h.providerAndBody(r, postSchema)
	if err != nil {
		return err
	}
	inv, rec := fromBody(b)
	if err := capacityError(web.Version(r), p.UUID, b.ResourceClass, inv); err != nil {
		return placement.E(placement.Invalid, "Unable to create inventory for resource provider %s: %s", p.UUID, err)
	}
	gen, err := h.Store.CreateInventory(r.Context(), p.UUID, b.ResourceClass, inv)
	if err != nil {
		return err
	}
	rec.Generation = &gen
	w.Header().Set("Location", web.AbsoluteURL(r, "/resource_providers/"+p.UUID+"/inventories/"+b.ResourceClass))
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusCreated, rec)
}

// ReplaceAll answers PUT …/inventories: the body's map becomes the
// provider's complete inventory.
//
// The provider is not read up front (loading a cloud makes this call once
// per provider): the store's generation compare-and-swap finds it. A check
// that fails before the store is reached reads it then (failedBefore), so
// the answer follows upstream's order: missing provider (404), body (400),
// generation (409), capacity (400).
func (h Handler) ReplaceAll(w http.ResponseWriter, r *http.Request) error {
	uuid := chi.URLParam(r, "uuid")
	var b struct {
		Generation  json.Number     `json:"resource_provider_generation"`
		Inventories map[string]body `json:"inventories"`
	}
	doc, err := web.DecodeBody(r, putAllSchema, nil)
	if err != nil {
		return h.failedBefore(r, err, nil)
	}
	if err := putAllStrictSchema.Validate(doc); err != nil {
		// Upstream compares the generation before it reads the records.
		var gen *int
		if m, ok := doc.(map[string]any); ok {
			if g, ok := m["resource_provider_generation"].(json.Number); ok && isIntegral(g) {
				n := toInt(g)
				gen = &n
			}
		}
		return h.failedBefore(r, placement.E(placement.Invalid, "JSON does not validate: %v", err), gen)
	}
	// The generic document keeps number tokens as json.Number, so this
	// round trip preserves them for the echo.
	if raw, err := json.Marshal(doc); err != nil || json.Unmarshal(raw, &b) != nil {
		return h.failedBefore(r, placement.E(placement.Invalid, "JSON does not validate: %s", "undecodable body"), nil)
	}
	if !isIntegral(b.Generation) {
		return h.failedBefore(r, errGenerationConflict(), nil)
	}
	gen := toInt(b.Generation)
	// Capacity is checked for every record before anything is written;
	// classes are taken in sorted order so the report is deterministic.
	classes := make([]string, 0, len(b.Inventories))
	for class := range b.Inventories {
		classes = append(classes, class)
	}
	slices.Sort(classes)
	invs := make(map[string]placement.Inventory, len(classes))
	out := collection{Inventories: make(map[string]record, len(classes))}
	for _, class := range classes {
		inv, rec := fromBody(b.Inventories[class])
		if err := capacityError(web.Version(r), uuid, class, inv); err != nil {
			return h.failedBefore(r, placement.E(placement.Invalid, "Unable to update inventory for resource provider %s: %s", uuid, err), &gen)
		}
		invs[class], out.Inventories[class] = inv, rec
	}
	out.Generation, err = h.Store.SetInventories(r.Context(), uuid, gen, invs)
	if errors.Is(err, store.ErrStaleGeneration) {
		return errGenerationConflict()
	}
	if err != nil {
		return err
	}
	if len(invs) == 0 {
		web.NoCacheOnly(w, r)
	} else {
		web.CacheHeaders(w, r, time.Time{})
	}
	return web.JSON(w, http.StatusOK, out)
}

// failedBefore answers a request to a provider's inventory that failed a
// check (cause) before the provider was read: a missing provider first,
// then, when gen is given, a generation other than the provider's, then
// cause.
func (h Handler) failedBefore(r *http.Request, cause error, gen *int) error {
	p, err := h.provider(r, false)
	if err != nil {
		return err
	}
	if gen != nil && *gen != p.Generation {
		return errGenerationConflict()
	}
	return cause
}

func errGenerationConflict() error {
	return placement.E(placement.Conflict, msgGenerationConflict).WithCode(placement.CodeConcurrentUpdate)
}

// DeleteAll answers DELETE …/inventories (1.5+): 204.
func (h Handler) DeleteAll(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteAllInventories(r.Context(), chi.URLParam(r, "uuid")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}

// Show answers GET …/inventories/{resource_class}.
func (h Handler) Show(w http.ResponseWriter, r *http.Request) error {
	p, err := h.provider(r, true)
	if err != nil {
		return err
	}
	inv, last, err := h.Store.Inventory(r.Context(), p, chi.URLParam(r, "resource_class"))
	if err != nil {
		return err
	}
	rec := fromInventory(inv)
	rec.Generation = &p.Generation
	web.CacheHeaders(w, r, last)
	return web.JSON(w, http.StatusOK, rec)
}

// Update answers PUT …/inventories/{resource_class}: overwrites an existing
// record, never creates one.
func (h Handler) Update(w http.ResponseWriter, r *http.Request) error {
	p, b, err := h.providerAndBody(r, putOneSchema)
	if err != nil {
		return err
	}
	gen, err := generation(*b.Generation, p)
	if err != nil {
		return err
	}
	class := chi.URLParam(r, "resource_class")
	inv, rec := fromBody(b)
	if err := capacityError(web.Version(r), p.UUID, class, inv); err != nil {
		return placement.E(placement.Invalid, "Unable to update inventory for resource provider %s: %s", p.UUID, err)
	}
	if gen, err = h.Store.UpdateInventory(r.Context(), p.UUID, gen, class, inv); err != nil {
		return err
	}
	rec.Generation = &gen
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, rec)
}

// Delete answers DELETE …/inventories/{resource_class}: 204.
func (h Handler) Delete(w http.ResponseWriter, r *http.Request) error {
	err := h.Store.DeleteInventory(r.Context(), chi.URLParam(r, "uuid"), chi.URLParam(r, "resource_class"))
	if err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}
