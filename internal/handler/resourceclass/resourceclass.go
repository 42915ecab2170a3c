// Package resourceclass serves /resource_classes (microversion 1.2+).
package resourceclass

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the resource class endpoints.
type Handler struct {
	Store *store.Store
}

// nameSchema is the body of POST and of the 1.2–1.6 PUT; at 1.7+ the path
// name is checked against it as if it were that body.
var nameSchema = schema.MustCompile("resource_class", `{
	"type": "object",
	"properties": {
		"name": {"type": "string", "pattern": "^CUSTOM_[A-Z0-9_]+$", "maxLength": 255}
	},
	"required": ["name"],
	"additionalProperties": false
}`)

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type resourceClass struct {
	Name  string `json:"name"`
	Links []link `json:"links"`
}

func represent(r *http.Request, name string) resourceClass {
	return resourceClass{Name: name, Links: []link{{Rel: "self", Href: web.Link(r, "/resource_classes/"+name)}}}
}

// List answers GET /resource_classes.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	classes, err := h.Store.ResourceClasses(r.Context())
	if err != nil {
		return err
	}
	out := make([]resourceClass, 0, len(classes))
	var last time.Time
	for _, rc := range classes {
		out = append(out, represent(r, rc.Name))
		if rc.LastModified.After(last) {
			last = rc.LastModified
		}
	}
	web.CacheHeaders(w, r, last)
	return web.JSON(w, http.StatusOK, map[string]any{"resource_classes": out})
}

// Show answers GET /resource_classes/{name}.
func (h Handler) Show(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.Store.ResourceClassByName(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, rc.LastModified)
	return web.JSON(w, http.StatusOK, represent(r, rc.Name))
}

// Create answers POST /resource_classes: 201 with Location, no body.
func (h Handler) Create(w http.ResponseWriter, r *http.Request) error {
	var body struct{ Name string }
	if _, err := web.DecodeBody(r, nameSchema, &body); err != nil {
		return err
	}
	if err := h.Store.CreateResourceClass(r.Context(), body.Name); err != nil {
		return err
	}
	w.Header().Set("Location", web.AbsoluteURL(r, "/resource_classes/"+body.Name))
	return web.NoContent(w, http.StatusCreated)
}

// Rename answers PUT /resource_classes/{name} at 1.2–1.6.
func (h Handler) Rename(w http.ResponseWriter, r *http.Request) error {
	var body struct{ Name string }
	if _, err := web.DecodeBody(r, nameSchema, &body); err != nil {
		return err
	}
	rc, err := h.Store.RenameResourceClass(r.Context(), chi.URLParam(r, "name"), body.Name)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, represent(r, rc.Name))
}

// CreateOrVerify answers the bodiless PUT /resource_classes/{name} of 1.7+:
// 201 when created, 204 when it already existed.
func (h Handler) CreateOrVerify(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	if err := nameSchema.Validate(map[string]any{"name": name}); err != nil {
		return placement.E(placement.Invalid, "JSON does not validate: %v", err)
	}
	created, err := h.Store.EnsureResourceClass(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", web.AbsoluteURL(r, "/resource_classes/"+name))
	return web.PutResult(w, created)
}

// Delete answers DELETE /resource_classes/{name}.
func (h Handler) Delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteResourceClass(r.Context(), chi.URLParam(r, "name")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}
