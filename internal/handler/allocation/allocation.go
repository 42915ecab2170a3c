// Package allocation serves /allocations/{consumer_uuid}, POST /allocations
// (1.13+), GET /resource_providers/{uuid}/allocations and POST /reshaper
// (1.30+). Every write is normalised into a placement.AllocationSet, in
// body order, and handed to the one write path: store.SetAllocations, or
// store.Reshape for the reshaper.
package allocation

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the allocation endpoints. IncompleteProjectID and
// IncompleteUserID are [placement] incomplete_consumer_project_id /
// incomplete_consumer_user_id (empty: the documented default).
type Handler struct {
	Store               *store.Store
	IncompleteProjectID string
	IncompleteUserID    string
}

func (h Handler) incomplete() incompleteIDs {
	inc := incompleteIDs{ProjectID: h.IncompleteProjectID, UserID: h.IncompleteUserID}
	if inc.ProjectID == "" {
		inc.ProjectID = placement.IncompleteConsumerID
	}
	if inc.UserID == "" {
		inc.UserID = placement.IncompleteConsumerID
	}
	return inc
}

// putSchema returns the PUT body schema of microversion v.
func putSchema(v microversion.Version) *schema.Schema {
	return microversion.Pick(v,
		microversion.At(0, put10), microversion.At(8, put18), microversion.At(12, put112), microversion.At(28, put128), microversion.At(34, put134), microversion.At(38, put138))
}

// postSchema returns the POST body schema of microversion v (1.13+).
func postSchema(v microversion.Version) *schema.Schema {
	return microversion.Pick(v, microversion.At(13, post113), microversion.At(28, post128), microversion.At(34, post134), microversion.At(38, post138))
}

// Update answers PUT /allocations/{consumer_uuid}: 204.
func (h Handler) Update(w http.ResponseWriter, r *http.Request) error {
	raw := chi.URLParam(r, "consumer_uuid")
	consumerUUID, ok := canonicalUUID(raw)
	if !ok {
		return placement.E(placement.Invalid, "Malformed consumer_uuid: %s", raw)
	}
	write, err := h.decodePut(r, consumerUUID)
	if err != nil {
		return err
	}
	err = h.Store.SetAllocations(r.Context(), placement.AllocationSet{write})
	if err != nil {
		return writeError(err, allocationWords("Unable to allocate inventory for consumer "+consumerUUID+": "))
	}
	return web.NoContent(w, http.StatusNoContent)
}

// decodePut validates and normalises a PUT /allocations/{consumer} body
// of the request's microversion.
func (h Handler) decodePut(r *http.Request, consumerUUID string) (placement.ConsumerAllocations, error) {
	v := web.Version(r)
	doc, err := web.ReadJSON(r, putSchema(v))
	if err != nil {
		return placement.ConsumerAllocations{}, err
	}
	var n numbers
	var write placement.ConsumerAllocations
	if v.AtLeast(1, 12) {
		write = fromEntry(v, consumerUUID, object(doc), &n, "")
	} else {
		write = fromList(consumerUUID, object(doc), h.incomplete(), &n)
	}
	return write, n.err()
}

// Create answers POST /allocations (1.13+): 204.
func (h Handler) Create(w http.ResponseWriter, r *http.Request) error {
	set, err := decodePost(r)
	if err != nil {
		return err
	}
	if err := h.Store.SetAllocations(r.Context(), set); err != nil {
		return writeError(err, allocationWords("Unable to allocate inventory "))
	}
	return web.NoContent(w, http.StatusNoContent)
}

// decodePost validates and normalises a POST /allocations body of the
// request's microversion.
func decodePost(r *http.Request) (placement.AllocationSet, error) {
	v := web.Version(r)
	doc, err := web.ReadJSON(r, postSchema(v))
	if err != nil {
		return nil, err
	}
	var n numbers
	set := fromEntries(v, object(doc), &n, "")
	if err := n.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// failureWords are an endpoint's prefixes for store.SetAllocations
// failures: upstream words them differently for PUT, POST and the
// reshaper.
type failureWords struct {
	unknownClass, invalid, concurrentUpdate string
}

// allocationWords are the prefixes of PUT and POST /allocations, whose
// unknown-class prefix differs.
func allocationWords(unknownClass string) failureWords {
	return failureWords{unknownClass, "Unable to allocate inventory: ",
		"Inventory and/or allocations changed while attempting to allocate: "}
}

// writeError words a failure of the allocation write path for an
// endpoint. An unknown resource class is Invalid, a capacity failure and a
// concurrent update are Conflicts (the latter with its code).
func writeError(err error, words failureWords) error {
	var pe *placement.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(err, store.ErrAllocationUnknownClass):
		return placement.E(placement.Invalid, "%s%s", words.unknownClass, pe.Message)
	case errors.Is(err, store.ErrAllocationInvalid):
		return placement.E(placement.Conflict, "%s%s", words.invalid, pe.Message)
	case errors.Is(err, store.ErrAllocationConcurrentUpdate):
		return placement.E(placement.Conflict, "%s%s", words.concurrentUpdate, pe.Message).
			WithCode(placement.CodeConcurrentUpdate)
	}
	return err
}

// Delete answers DELETE /allocations/{consumer_uuid}: 204, or 404 when the
// consumer (looked up verbatim) has no allocations.
func (h Handler) Delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.Store.DeleteAllocations(r.Context(), chi.URLParam(r, "consumer_uuid")); err != nil {
		return err
	}
	return web.NoContent(w, http.StatusNoContent)
}

type providerEntry struct {
	Resources  map[string]int `json:"resources"`
	Generation int            `json:"generation"`
}

// consumerBody builds GET /allocations/{c}: the allocations by provider, and
// for a consumer with allocations project/user (1.12), consumer_generation
// (1.28) and consumer_type (1.38, "unknown" when none is recorded).
func consumerBody(v microversion.Version, l store.ConsumerAllocationList) map[string]any {
	allocs := map[string]*providerEntry{}
	for _, a := range l.Allocations {
		e := allocs[a.ProviderUUID]
		if e == nil {
			e = &providerEntry{Resources: map[string]int{}, Generation: a.ProviderGeneration}
			allocs[a.ProviderUUID] = e
		}
		e.Resources[a.ResourceClass] = a.Used
	}
	out := map[string]any{"allocations": allocs}
	if len(l.Allocations) == 0 || !v.AtLeast(1, 12) {
		return out
	}
	out["project_id"], out["user_id"] = l.ProjectID, l.UserID
	if v.AtLeast(1, 28) {
		out["consumer_generation"] = l.Generation
	}
	if v.AtLeast(1, 38) {
		t := "unknown"
		if l.ConsumerType != nil {
			t = *l.ConsumerType
		}
		out["consumer_type"] = t
	}
	return out
}

// Show answers GET /allocations/{consumer_uuid}; the id is used verbatim and
// an unknown consumer is 200 {"allocations": {}}.
func (h Handler) Show(w http.ResponseWriter, r *http.Request) error {
	l, err := h.Store.AllocationsForConsumer(r.Context(), chi.URLParam(r, "consumer_uuid"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, newest(l.Allocations))
	return web.JSON(w, http.StatusOK, consumerBody(web.Version(r), l))
}

func newest(allocs []store.Allocation) time.Time {
	var t time.Time
	for _, a := range allocs {
		if a.CreatedAt.After(t) {
			t = a.CreatedAt
		}
	}
	return t
}

type consumerEntry struct {
	Resources          map[string]int `json:"resources"`
	ConsumerGeneration *int           `json:"consumer_generation,omitempty"`
}

// providerBody builds GET /resource_providers/{uuid}/allocations: per
// consumer the resources, plus consumer_generation from 1.28.
func providerBody(v microversion.Version, rp store.Provider, allocs []store.Allocation) map[string]any {
	byConsumer := map[string]*consumerEntry{}
	for _, a := range allocs {
		e := byConsumer[a.ConsumerUUID]
		if e == nil {
			e = &consumerEntry{Resources: map[string]int{}}
			if v.AtLeast(1, 28) {
				g := a.ConsumerGeneration
				e.ConsumerGeneration = &g
			}
			byConsumer[a.ConsumerUUID] = e
		}
		e.Resources[a.ResourceClass] = a.Used
	}
	return map[string]any{"allocations": byConsumer, "resource_provider_generation": rp.Generation}
}

// ListForProvider answers GET /resource_providers/{uuid}/allocations.
func (h Handler) ListForProvider(w http.ResponseWriter, r *http.Request) error {
	rp, allocs, err := h.Store.AllocationsForProvider(r.Context(), chi.URLParam(r, "uuid"))
	if err != nil {
		return err
	}
	web.CacheHeaders(w, r, newest(allocs))
	return web.JSON(w, http.StatusOK, providerBody(web.Version(r), rp, allocs))
}
