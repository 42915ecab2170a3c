// Package trait serves /traits (microversion 1.6+).
package trait

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the trait endpoints.
type Handler struct {
	Store *store.Store
}

var listQuery = schema.MustCompile("traits_query", `{
	"type": "object",
	"properties": {"name": {"type": "string"}, "associated": {"type": "string"}},
	"additionalProperties": false
}`)

// Message texts clients and tests match.
const (
	msgBadName       = `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "%s"`
	msgBadAssociated = `The query parameter "associated" only accepts "true" or "false"`
	msgInvalidTrait  = `The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"`
)

// List answers GET /traits with the name and associated filters.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	q, err := web.ValidateQuery(r, listQuery)
	if err != nil {
		return err
	}
	var f store.TraitFilter
	if vs, ok := q["name"]; ok {
		v := vs[len(vs)-1]
		op, operand, found := strings.Cut(v, ":")
		if !found {
			return placement.E(placement.Invalid, msgBadName, v)
		}
		switch op {
		case "in":
			f.NameIn = strings.Split(operand, ",")
		case "startswith":
			f.NamePrefix = &operand
		}
	}
	if vs, ok := q["associated"]; ok {
		var assoc bool
		switch strings.ToLower(vs[len(vs)-1]) {
		case "true":
			assoc = true
		case "false":
		default:
			return placement.E(placement.Invalid, msgBadAssociated)
		}
		f.Associated = &assoc
	}
	names, last, err := h.Store.Traits(r.Context(), f)
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, last)
	return web.JSON(w, http.StatusOK, map[string]any{"traits": names})
}

// Show answers GET /traits/{name}: 204 when it exists.
func (h Handler) Show(w http.ResponseWriter, r *http.Request) error {
	created, err := h.Store.TraitCreatedAt(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, created)
	return web.NoContent(w, http.StatusNoContent)
}

// Update answers PUT /traits/{name}: 201 created, 204 existing.
func (h Handler) Update(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	if !placement.IsCustomTraitName(name) {
		return placement.E(placement.Invalid, msgInvalidTrait)
	}
	created, at, err := h.Store.EnsureTrait(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", web.AbsoluteURL(r, "/traits/"+name))
	web.CacheHeaders(w, r, at)
	return web.PutResult(w, created)
}

// Delete answers DELETE /traits/{name}.
func (h Handler) Delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteTrait(r.Context(), chi.URLParam(r, "name")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}
