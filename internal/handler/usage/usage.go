// Package usage serves GET /usages (1.9+): the usage of a project (and
// user), grouped by consumer type from 1.38.
package usage

import (
	"net/http"
	"net/url"
	"time"

	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves GET /usages.
type Handler struct {
	Store *store.Store
}

const (
	idJSON = `{"type": "string", "minLength": 1, "maxLength": 255}`
	// The "^all" alternative is not end-anchored upstream: "allx" passes
	// and is then an ordinary type name.
	consumerTypeJSON = `{"type": "string", "pattern": "^[A-Z0-9_]+$|^all|^unknown$", "minLength": 1, "maxLength": 255}`
)

var (
	query19 = schema.MustCompile("usages 1.9", `{"type": "object",
		"properties": {"project_id": `+idJSON+`, "user_id": `+idJSON+`},
		"required": ["project_id"], "additionalProperties": false}`)
	query138 = schema.MustCompile("usages 1.38", `{"type": "object",
		"properties": {"project_id": `+idJSON+`, "user_id": `+idJSON+`, "consumer_type": `+consumerTypeJSON+`},
		"required": ["project_id"], "additionalProperties": false}`)
)

// PolicyTarget is the policy target of GET /usages: the queried project,
// so that a project reader may see its own project's usage.
func PolicyTarget(r *http.Request) map[string]string {
	project := ""
	pairs, _ := web.ParseQuery(r.URL.RawQuery) // a bad query is a 400 later
	for _, p := range pairs {
		if p.Key == "project_id" {
			project = p.Value // the last one, as ValidateQuery's
		}
	}
	return map[string]string{"project_id": project}
}

// filter reads each parameter's last value, as the schema checked it and
// upstream reads it.
func filter(q url.Values) store.UsageFilter {
	f := store.UsageFilter{ProjectID: web.Last(q, "project_id")}
	if q.Has("user_id") {
		u := web.Last(q, "user_id")
		f.UserID = &u
	}
	if q.Has("consumer_type") {
		t := web.Last(q, "consumer_type")
		f.ConsumerType = &t
	}
	return f
}

// List answers GET /usages.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	v := web.Version(r)
	s := query19
	if v.AtLeast(1, 38) {
		s = query138
	}
	q, err := web.ValidateQuery(r, s)
	if err != nil {
		return err
	}
	f := filter(q)
	var body any
	if v.AtLeast(1, 38) {
		groups, err := h.Store.UsagesByConsumerType(r.Context(), f)
		if err != nil {
			return err
		}
		out := make(map[string]map[string]int64, len(groups))
		for name, g := range groups {
			m := make(map[string]int64, len(g.Usages)+1)
			for rc, used := range g.Usages {
				m[rc] = used
			}
			m["consumer_count"] = int64(g.ConsumerCount)
			out[name] = m
		}
		body = map[string]any{"usages": out}
	} else {
		usages, err := h.Store.Usages(r.Context(), f)
		if err != nil {
			return err
		}
		body = map[string]any{"usages": usages}
	}
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, body)
}
