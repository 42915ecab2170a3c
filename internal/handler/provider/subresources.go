package provider

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// traitsBody is the PUT …/traits body (spec 04 Appendix A).
var traitsBody = schema.MustCompile("provider_traits", `{
	"type": "object",
	"properties": {
		"traits": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}},
		"resource_provider_generation": {"type": "integer"}
	},
	"required": ["traits", "resource_provider_generation"],
	"additionalProperties": false
}`)

const aggregateList = `{"type": "array", "items": {"type": "string", "format": "uuid"}, "uniqueItems": true}`

// Aggregate PUT bodies: the bare list up to 1.18, an object with the
// generation from 1.19 (spec 05 Appendix A).
var (
	aggregatesBody11  = schema.MustCompile("provider_aggregates_1.1", aggregateList)
	aggregatesBody119 = schema.MustCompile("provider_aggregates_1.19", `{
		"type": "object",
		"properties": {
			"aggregates": `+aggregateList+`,
			"resource_provider_generation": {"type": "integer"}
		},
		"required": ["aggregates", "resource_provider_generation"],
		"additionalProperties": false
	}`)
)

type traitsDoc struct {
	Traits     []string `json:"traits"`
	Generation int      `json:"resource_provider_generation"`
}

func writeTraits(w http.ResponseWriter, r *http.Request, set store.ProviderTraitSet) error {
	web.CacheHeaders(w, r, set.LastModified)
	return web.JSON(w, http.StatusOK, traitsDoc{Traits: set.Traits, Generation: set.Generation})
}

// Traits answers GET /resource_providers/{uuid}/traits (1.6+).
func (h Handler) Traits(w http.ResponseWriter, r *http.Request) error {
	set, err := h.Store.ProviderTraits(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return doubleNotFound(err)
	}
	return writeTraits(w, r, set)
}

// SetTraits answers PUT /resource_providers/{uuid}/traits (1.6+). The body
// is validated before the provider is looked up.
func (h Handler) SetTraits(w http.ResponseWriter, r *http.Request) error {
	var body traitsDoc
	if _, err := web.DecodeBody(r, traitsBody, &body); err != nil {
		return err
	}
	set, err := h.Store.SetProviderTraits(r.Context(), chi.URLParam(r, "uuid"), body.Generation, body.Traits)
	if err != nil {
		return err
	}
	return writeTraits(w, r, set)
}

// DeleteTraits answers DELETE /resource_providers/{uuid}/traits (1.6+).
func (h Handler) DeleteTraits(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteProviderTraits(r.Context(), chi.URLParam(r, "uuid")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}

type aggregatesDoc struct {
	Aggregates []string `json:"aggregates"`
}

type aggregatesGenDoc struct {
	Aggregates []string `json:"aggregates"`
	Generation int      `json:"resource_provider_generation"`
}

// aggregatesResponse is the GET/PUT body: a bare list up to 1.18, with the
// provider generation from 1.19.
func aggregatesResponse(v microversion.Version, aggs []string, gen int) any {
	if v.AtLeast(1, 19) {
		return aggregatesGenDoc{Aggregates: aggs, Generation: gen}
	}
	return aggregatesDoc{Aggregates: aggs}
}

// Aggregates answers GET /resource_providers/{uuid}/aggregates (1.1+).
func (h Handler) Aggregates(w http.ResponseWriter, r *http.Request) error {
	gen, aggs, err := h.Store.ProviderAggregates(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, aggregatesResponse(version(r), aggs, gen))
}

// SetAggregates answers PUT /resource_providers/{uuid}/aggregates (1.1+).
// The provider is not read up front (loading a cloud makes this call once
// per provider): the store finds it, or reports it missing. A bad body is
// checked against the provider afterwards, so a missing provider is still
// 404 before the body's 400.
func (h Handler) SetAggregates(w http.ResponseWriter, r *http.Request) error {
	v := version(r)
	uuid := chi.URLParam(r, "uuid")
	aggs := []string{}
	var gen *int
	var err error
	if v.AtLeast(1, 19) {
		var body aggregatesGenDoc
		if _, err = web.DecodeBody(r, aggregatesBody119, &body); err == nil {
			aggs, gen = body.Aggregates, &body.Generation
		}
	} else {
		_, err = web.DecodeBody(r, aggregatesBody11, &aggs)
	}
	if err != nil {
		if _, perr := h.Store.ProviderByUUID(r.Context(), uuid); perr != nil {
			return perr
		}
		return err
	}
	newGen, err := h.Store.SetProviderAggregates(r.Context(), uuid, aggs, gen)
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, aggregatesResponse(v, aggs, newGen))
}

type usagesDoc struct {
	Generation int              `json:"resource_provider_generation"`
	Usages     map[string]int64 `json:"usages"`
}

// Usages answers GET /resource_providers/{uuid}/usages.
func (h Handler) Usages(w http.ResponseWriter, r *http.Request) error {
	gen, usages, err := h.Store.ProviderUsages(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return doubleNotFound(err)
	}
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, usagesDoc{Generation: gen, Usages: usages})
}
