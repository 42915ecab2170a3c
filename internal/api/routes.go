package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/allocation"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/handler/inventory"
	"github.com/openstack-placement-go/placement/internal/handler/provider"
	"github.com/openstack-placement-go/placement/internal/handler/resourceclass"
	"github.com/openstack-placement-go/placement/internal/handler/trait"
	"github.com/openstack-placement-go/placement/internal/handler/usage"
	"github.com/openstack-placement-go/placement/internal/metrics"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handlers are the resource handlers the route table dispatches to.
type Handlers struct {
	Allocation    allocation.Handler
	Candidate     candidate.Handler
	Inventory     inventory.Handler
	Usage         usage.Handler
	Provider      provider.Handler
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
		{method: "GET", pattern: openAPIPath, handler: serveOpenAPI},

		{method: "GET", pattern: "/resource_providers", policy: "placement:resource_providers:list", accept: true, handler: h.Provider.List},
		{method: "POST", pattern: "/resource_providers", policy: "placement:resource_providers:create", json: true, handler: h.Provider.Create},
		{method: "GET", pattern: "/resource_providers/{uuid}", policy: "placement:resource_providers:show", accept: true, handler: h.Provider.Show},
		{method: "DELETE", pattern: "/resource_providers/{uuid}", policy: "placement:resource_providers:delete", handler: h.Provider.Delete},
		{method: "PUT", pattern: "/resource_providers/{uuid}", policy: "placement:resource_providers:update", json: true, handler: h.Provider.Update},
		{method: "GET", pattern: "/resource_providers/{uuid}/inventories", policy: "placement:resource_providers:inventories:list", accept: true, handler: h.Inventory.List},
		{method: "POST", pattern: "/resource_providers/{uuid}/inventories", policy: "placement:resource_providers:inventories:create", json: true, handler: h.Inventory.Create},
		{method: "PUT", pattern: "/resource_providers/{uuid}/inventories", policy: "placement:resource_providers:inventories:update", json: true, handler: h.Inventory.ReplaceAll},
		{method: "DELETE", pattern: "/resource_providers/{uuid}/inventories", min: v(5), below405: true, policy: "placement:resource_providers:inventories:delete", handler: h.Inventory.DeleteAll},
		{method: "GET", pattern: "/resource_providers/{uuid}/inventories/{resource_class}", policy: "placement:resource_providers:inventories:show", accept: true, handler: h.Inventory.Show},
		{method: "PUT", pattern: "/resource_providers/{uuid}/inventories/{resource_class}", policy: "placement:resource_providers:inventories:update", json: true, handler: h.Inventory.Update},
		{method: "DELETE", pattern: "/resource_providers/{uuid}/inventories/{resource_class}", policy: "placement:resource_providers:inventories:delete", handler: h.Inventory.Delete},
		{method: "GET", pattern: "/resource_providers/{uuid}/usages", policy: "placement:resource_providers:usages", accept: true, handler: h.Provider.Usages},
		{method: "GET", pattern: "/resource_providers/{uuid}/aggregates", min: v(1), policy: "placement:resource_providers:aggregates:list", accept: true, mediaFirst: true, handler: h.Provider.Aggregates},
		{method: "PUT", pattern: "/resource_providers/{uuid}/aggregates", min: v(1), policy: "placement:resource_providers:aggregates:update", json: true, mediaFirst: true, handler: h.Provider.SetAggregates},
		{method: "GET", pattern: "/resource_providers/{uuid}/traits", min: v(6), policy: "placement:resource_providers:traits:list", accept: true, handler: h.Provider.Traits},
		{method: "PUT", pattern: "/resource_providers/{uuid}/traits", min: v(6), policy: "placement:resource_providers:traits:update", json: true, handler: h.Provider.SetTraits},
		{method: "DELETE", pattern: "/resource_providers/{uuid}/traits", min: v(6), policy: "placement:resource_providers:traits:delete", handler: h.Provider.DeleteTraits},

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

		{method: "GET", pattern: "/resource_providers/{uuid}/allocations", policy: "placement:resource_providers:allocations:list", accept: true, handler: h.Allocation.ListForProvider},
		{method: "POST", pattern: "/allocations", min: v(13), policy: "placement:allocations:manage", json: true, handler: h.Allocation.Create},
		{method: "GET", pattern: "/allocations/{consumer_uuid}", policy: "placement:allocations:list", accept: true, handler: h.Allocation.Show},
		{method: "PUT", pattern: "/allocations/{consumer_uuid}", policy: "placement:allocations:update", json: true, handler: h.Allocation.Update},
		{method: "DELETE", pattern: "/allocations/{consumer_uuid}", policy: "placement:allocations:delete", handler: h.Allocation.Delete},
		{method: "GET", pattern: "/usages", min: v(9), policy: "placement:usages", accept: true, target: usage.PolicyTarget, handler: h.Usage.List},
		{method: "GET", pattern: "/allocation_candidates", min: v(10), policy: "placement:allocation_candidates:list", accept: true, handler: h.Candidate.List},
		{method: "GET", pattern: "/diagnostics/allocation_candidates", min: v(10), policy: "placement:diagnostics:allocation_candidates", accept: true, handler: h.Candidate.Explain},
		{method: "POST", pattern: "/reshaper", min: v(30), policy: "placement:reshaper:reshape", json: true, handler: h.Allocation.Reshape},
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
	Policy policy.Enforcer // default: policy.Default()
	Logger *slog.Logger    // default: slog.Default()
	// Security and operations (see API): CORS, metrics, the health probe
	// (default: ping st's pool) and the body size limit.
	Auth    auth.Authenticator // default: auth.NoAuth2{}
	CORS    CORSOptions
	Metrics *metrics.Placement
	Health  func(ctx context.Context) error
	// HealthDisableFile: see API.
	HealthDisableFile string
	MaxBodyBytes      int64
	// Placement holds the [placement] options the handlers need.
	Placement PlacementOptions
	// URLPrefix and ProxyHeaders: see API.
	URLPrefix    string
	ProxyHeaders bool
}

// PlacementOptions are the [placement] configuration options that change
// handler behaviour.
type PlacementOptions struct {
	IncompleteConsumerProjectID   string // allocations written below 1.8
	IncompleteConsumerUserID      string
	RandomizeAllocationCandidates bool
	// MaxAllocationCandidates caps the candidates generated (zero or
	// negative: no cap); [placement] max_allocation_candidates goes
	// through engine.MaxCandidatesFromConfig on its way here, because
	// there 0 means one candidate.
	MaxAllocationCandidates int
	// AllocationCandidatesStrategy is [placement]
	// allocation_candidates_generation_strategy (zero: depth-first).
	AllocationCandidatesStrategy engine.Strategy
	// AllocationCandidatesMemoryLimitMB and AllocationCandidatesTimeout
	// bound one GET /allocation_candidates (MiB, seconds; zero or
	// negative: no bound). The zero Options leave both off.
	AllocationCandidatesMemoryLimitMB int
	AllocationCandidatesTimeout       time.Duration
}

// New wires every handler to st.
func New(st *store.Store, opts Options) *API {
	if opts.Policy == nil {
		opts.Policy = policy.Default()
	}
	if opts.Health == nil && st != nil {
		opts.Health = func(ctx context.Context) error { return st.Pool().Ping(ctx) }
	}
	return &API{
		Handlers: Handlers{
			Allocation: allocation.Handler{Store: st,
				IncompleteProjectID: opts.Placement.IncompleteConsumerProjectID,
				IncompleteUserID:    opts.Placement.IncompleteConsumerUserID},
			Candidate: candidate.Handler{Store: st,
				Randomize:     opts.Placement.RandomizeAllocationCandidates,
				MaxCandidates: opts.Placement.MaxAllocationCandidates,
				Strategy:      opts.Placement.AllocationCandidatesStrategy,
				MemoryLimit:   int64(max(opts.Placement.AllocationCandidatesMemoryLimitMB, 0)) << 20,
				Timeout:       opts.Placement.AllocationCandidatesTimeout},
			Inventory:     inventory.Handler{Store: st},
			Usage:         usage.Handler{Store: st},
			Provider:      provider.Handler{Store: st},
			ResourceClass: resourceclass.Handler{Store: st},
			Trait:         trait.Handler{Store: st},
		},
		Policy:            opts.Policy,
		Logger:            opts.Logger,
		Auth:              opts.Auth,
		CORS:              opts.CORS,
		Metrics:           opts.Metrics,
		Health:            opts.Health,
		HealthDisableFile: opts.HealthDisableFile,
		MaxBodyBytes:      opts.MaxBodyBytes,
		URLPrefix:         opts.URLPrefix,
		ProxyHeaders:      opts.ProxyHeaders,
	}
}
