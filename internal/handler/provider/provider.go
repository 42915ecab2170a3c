// Package provider serves /resource_providers and the per-provider traits,
// aggregates and usages sub-resources (spec 02, 04 §§2.6–2.9, 05 §§1–2).
package provider

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the provider endpoints.
type Handler struct {
	Store *store.Store
}

const (
	propName   = `"name": {"type": "string", "maxLength": 200}`
	propUUID   = `"uuid": {"type": "string", "format": "uuid"}`
	propParent = `"parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}`
)

func bodySchema(name string, props ...string) *schema.Schema {
	return schema.MustCompile(name, `{
		"type": "object",
		"properties": {`+strings.Join(props, ", ")+`},
		"required": ["name"],
		"additionalProperties": false
	}`)
}

// Request bodies per microversion (spec 02 Appendix A).
var (
	createBody10  = bodySchema("provider_create_1.0", propName, propUUID)
	createBody114 = bodySchema("provider_create_1.14", propName, propUUID, propParent)
	updateBody10  = bodySchema("provider_update_1.0", propName)
	updateBody114 = bodySchema("provider_update_1.14", propName, propParent)
)

func createBody(v microversion.Version) *schema.Schema {
	if v.AtLeast(1, 14) {
		return createBody114
	}
	return createBody10
}

func updateBody(v microversion.Version) *schema.Schema {
	if v.AtLeast(1, 14) {
		return updateBody114
	}
	return updateBody10
}

// List answers GET /resource_providers.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	v := version(r)
	q, err := web.ValidateQuery(r, listSchema(v))
	if err != nil {
		return err
	}
	f, err := parseFilter(v, q)
	if err != nil {
		return err
	}
	ps, err := h.Store.Providers(r.Context(), f)
	if err != nil {
		return err
	}
	var last time.Time
	for i := range ps {
		if t := ps[i].LastModified(); t.After(last) {
			last = t
		}
	}
	web.CacheHeaders(w, r, last)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// Once the status is sent a write error can only be a gone client,
	// and there is nobody left to tell (as for a streamed candidates
	// answer).
	_ = newEncoder(r).writeList(w, ps)
	return nil
}

// Show answers GET /resource_providers/{uuid}.
func (h Handler) Show(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Store.ProviderByUUID(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, p.LastModified())
	return writeJSON(w, http.StatusOK, newEncoder(r).appendProvider(nil, &p))
}

// Create answers POST /resource_providers: 201 without a body before 1.20,
// 200 with the provider from 1.20 on; Location either way.
func (h Handler) Create(w http.ResponseWriter, r *http.Request) error {
	v := version(r)
	doc, err := web.DecodeBody(r, createBody(v), nil)
	if err != nil {
		return err
	}
	body := doc.(map[string]any)
	np := store.NewProvider{Name: body["name"].(string)}
	if id, ok := body["uuid"].(string); ok {
		np.UUID = canonicalUUID(id)
	} else {
		np.UUID = uuid.NewString()
	}
	if parent, ok := body["parent_provider_uuid"].(string); ok {
		np.ParentUUID = &parent
	}
	p, err := h.Store.CreateProvider(r.Context(), np)
	if err != nil {
		return err
	}
	w.Header().Set("Location", web.AbsoluteURL(r, "/resource_providers/"+p.UUID))
	if !v.AtLeast(1, 20) {
		return web.NoContent(w, http.StatusCreated)
	}
	web.CacheHeaders(w, r, time.Time{})
	return writeJSON(w, http.StatusOK, newEncoder(r).appendProvider(nil, &p))
}

// Update answers PUT /resource_providers/{uuid}: rename and (re-)parent.
// The provider is looked up before the body is validated, as upstream does.
func (h Handler) Update(w http.ResponseWriter, r *http.Request) error {
	v := version(r)
	before, err := h.Store.ProviderByUUID(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return err
	}
	doc, err := web.DecodeBody(r, updateBody(v), nil)
	if err != nil {
		return err
	}
	body := doc.(map[string]any)
	u := store.ProviderUpdate{Name: body["name"].(string), AllowReparent: v.AtLeast(1, 37)}
	if parent, ok := body["parent_provider_uuid"]; ok {
		u.SetParent = true
		if s, ok := parent.(string); ok {
			u.ParentUUID = &s
		}
	}
	p, err := h.Store.UpdateProvider(r.Context(), before.UUID, u)
	if err != nil {
		return err
	}
	// Last-Modified is the updated_at read before the update, omitted when
	// it was NULL (spec 01 §8.2).
	web.NoCacheOnly(w, r)
	if before.UpdatedAt != nil && v.AtLeast(1, 15) {
		web.CacheHeaders(w, r, *before.UpdatedAt)
	}
	return writeJSON(w, http.StatusOK, newEncoder(r).appendProvider(nil, &p))
}

// Delete answers DELETE /resource_providers/{uuid}.
func (h Handler) Delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteProvider(r.Context(), chi.URLParam(r, "uuid")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}

// canonicalUUID normalises a uuid-like value (already validated) to the
// lower-case 8-4-4-4-12 form, as upstream stores a new provider's uuid.
func canonicalUUID(s string) string {
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.Trim(s, "{}")
	s = strings.ToLower(strings.ReplaceAll(s, "-", ""))
	if len(s) != 32 {
		return s
	}
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// doubleNotFound repeats a provider NotFound message the way the traits
// GET and usages handlers of upstream word it:
// "No resource provider with uuid X found: No resource provider with uuid X found".
func doubleNotFound(err error) error {
	if placement.KindOf(err) != placement.NotFound {
		return err
	}
	msg := err.Error()
	return placement.E(placement.NotFound, "%s: %s", msg, msg)
}
