package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/openstack-placement-go/placement/internal/handler/resourceclass"
	"github.com/openstack-placement-go/placement/internal/handler/trait"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handlers are the resource handlers the route table dispatches to.
type Handlers struct {
	ResourceClass resourceclass.Handler
	Trait         trait.Handler
}

func v(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

// routes is the one route table: method, pattern, microversion range,
// policy name, Accept/media-type gates and handler. Methods of a pattern are
// listed in the order upstream's Allow header gives them.
func (a *API) routes() []route {
	h := a.Handlers
	rc, tr := h.ResourceClass, h.Trait
	return []route{
		{method: "GET", pattern: "/", handler: root},

		{method: "GET", pattern: "/resource_classes", min: v(2), policy: "placement:resource_classes:list", accept: true, handler: rc.List},
		{method: "POST", pattern: "/resource_classes", min: v(2), policy: "placement:resource_classes:create", json: true, handler: rc.Create},
		{method: "GET", pattern: "/resource_classes/{name}", min: v(2), policy: "placement:resource_classes:show", accept: true, handler: rc.Show},
		{method: "PUT", pattern: "/resource_classes/{name}", min: v(2), max: v(6), policy: "placement:resource_classes:update", json: true, handler: rc.Rename},
		{method: "PUT", pattern: "/resource_classes/{name}", min: v(7), policy: "placement:resource_classes:update", handler: rc.CreateOrVerify},
		{method: "DELETE", pattern: "/resource_classes/{name}", min: v(2), policy: "placement:resource_classes:delete", handler: rc.Delete},

		{method: "GET", pattern: "/traits", min: v(6), policy: "placement:traits:list", accept: true, handler: tr.List},
		{method: "GET", pattern: "/traits/{name}", min: v(6), policy: "placement:traits:show", handler: tr.Show},
		{method: "PUT", pattern: "/traits/{name}", min: v(6), policy: "placement:traits:update", handler: tr.Update},
		{method: "DELETE", pattern: "/traits/{name}", min: v(6), policy: "placement:traits:delete", handler: tr.Delete},
	}
}

type versionLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type versionDoc struct {
	ID         string        `json:"id"`
	MaxVersion string        `json:"max_version"`
	MinVersion string        `json:"min_version"`
	Status     string        `json:"status"`
	Links      []versionLink `json:"links"`
}

// root answers GET /: the version document, no authentication.
func root(w http.ResponseWriter, r *http.Request) error {
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, map[string][]versionDoc{"versions": {{
		ID:         "v" + microversion.Min.String(),
		MaxVersion: microversion.Max.String(),
		MinVersion: microversion.Min.String(),
		Status:     "CURRENT",
		Links:      []versionLink{{Rel: "self", Href: ""}},
	}}})
}

// Options configure New.
type Options struct {
	Policy policy.Enforcer // default: policy.Defaults{}
	Logger *slog.Logger    // default: slog.Default()
}

// New wires every handler to st.
func New(st *store.Store, opts Options) *API {
	if opts.Policy == nil {
		opts.Policy = policy.Defaults{}
	}
	return &API{
		Handlers: Handlers{
			ResourceClass: resourceclass.Handler{Store: st},
			Trait:         trait.Handler{Store: st},
		},
		Policy: opts.Policy,
		Logger: opts.Logger,
	}
}
