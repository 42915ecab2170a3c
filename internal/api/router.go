// Package api is the HTTP face of the service: the route table, the
// middleware chain, microversion negotiation and the one error renderer.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/metrics"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/web"
)

// API holds what the routes need.
type API struct {
	Handlers Handlers
	Policy   policy.Enforcer
	Logger   *slog.Logger
	// Auth establishes the caller (default auth.NoAuth2{}).
	Auth auth.Authenticator
	// CORS is off while CORS.AllowedOrigin is empty.
	CORS CORSOptions
	// Metrics, when set, is fed by every request and served on /metrics.
	Metrics *metrics.Placement
	// Health reports whether the database answers (/healthcheck).
	Health func(ctx context.Context) error
	// HealthDisableFile, when it exists, makes /healthcheck answer 503
	// ([healthcheck] disable_by_file_path).
	HealthDisableFile string
	// MaxBodyBytes limits request bodies (0: DefaultMaxBodyBytes, <0: none).
	MaxBodyBytes int64
	// URLPrefix mounts the API under a path (e.g. "/placement").
	URLPrefix string
	// ProxyHeaders trusts Forwarded / X-Forwarded-* headers
	// ([oslo_middleware] enable_proxy_headers_parsing).
	ProxyHeaders bool
}

// errMethodNotAllowed is the 405 of a known path with another method.
var errMethodNotAllowed = placement.E(placement.MethodNotAllowed, "The method specified is not allowed for this resource.")

// route is one line of the route table.
type route struct {
	method  string
	pattern string
	min     microversion.Version
	max     microversion.Version // zero means microversion.Max
	policy  string               // upstream policy name; "" for the open root
	accept  bool                 // 406 unless application/json is acceptable
	json    bool                 // 415 unless the body is application/json
	// below405 answers 405 instead of 404 below min (DELETE inventories < 1.5).
	below405 bool
	// mediaFirst runs the accept/json checks before the microversion gate
	// (upstream's decorator order on the provider aggregates handlers).
	mediaFirst bool
	// target overrides the policy target (GET /usages checks the queried project).
	target  func(r *http.Request) map[string]string
	handler web.HandlerFunc
}

func (rt route) covers(v microversion.Version) bool {
	max := rt.max
	if max == (microversion.Version{}) {
		max = microversion.Max
	}
	return !v.Less(rt.min) && !max.Less(v)
}

// Handler builds the whole service: middleware chain and router.
func (a *API) Handler() http.Handler {
	logger := a.Logger
	if logger == nil {
		logger = slog.Default()
	}
	mux := chi.NewRouter()
	mux.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, placement.E(placement.NotFound, ""))
	})
	allows := a.mount(mux, a.routes())
	// chi sends a method it does not know (FOO, get) here before routing:
	// answer as for a known one, 405 with the path's Allow list, or 404.
	mux.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.NewRouteContext()
		if !mux.Match(rctx, http.MethodGet, r.URL.Path) {
			writeError(w, r, placement.E(placement.NotFound, ""))
			return
		}
		w.Header().Set("Allow", allows[rctx.RoutePattern()])
		writeError(w, r, errMethodNotAllowed)
	})

	var h http.Handler = mux
	h = wsgiPath(h)
	h = checkContent(h)
	h = rejectNUL(h)
	h = a.limitBody(h)
	h = negotiate(h)
	h = a.authenticate(h)
	h = a.operations(h) // /healthcheck (open) and /metrics (admin_api)
	h = a.CORS.middleware(h)
	h = recoverer(logger)(h) // the 500 of a panic carries the request id and is logged and counted
	h = a.instrument(h)
	h = accessLog(logger)(h)
	h = requestID(h)
	h = mountPrefix(a.URLPrefix, h)
	if a.ProxyHeaders {
		h = proxyHeaders(h)
	}
	h = recoverer(logger)(h) // a panic in the middleware above
	return h
}

// emptySegment reports whether chi matched a path parameter to an empty
// segment ("/resource_providers//traits"), which upstream's routes never
// match: such a path is unknown (404).
func emptySegment(r *http.Request) bool {
	rctx := chi.RouteContext(r.Context())
	return rctx != nil && slices.Contains(rctx.URLParams.Values, "")
}

// mount registers the table. For every pattern a catch-all answering 405
// with the table's Allow list goes in first; the method handlers registered
// after it take precedence for their methods. It returns the Allow lists
// by pattern.
func (a *API) mount(mux chi.Router, routes []route) map[string]string {
	allows := map[string]string{}
	var patterns []string
	byPattern := map[string][]route{}
	for _, rt := range routes {
		if _, seen := byPattern[rt.pattern]; !seen {
			patterns = append(patterns, rt.pattern)
		}
		byPattern[rt.pattern] = append(byPattern[rt.pattern], rt)
	}
	for _, p := range patterns {
		var methods []string
		byMethod := map[string][]route{}
		for _, rt := range byPattern[p] {
			if _, seen := byMethod[rt.method]; !seen {
				methods = append(methods, rt.method)
			}
			byMethod[rt.method] = append(byMethod[rt.method], rt)
		}
		allow := strings.Join(methods, ", ")
		allows[p] = allow
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if emptySegment(r) {
				writeError(w, r, placement.E(placement.NotFound, ""))
				return
			}
			w.Header().Set("Allow", allow)
			writeError(w, r, errMethodNotAllowed)
		})
		for _, m := range methods {
			mux.Method(m, p, a.dispatch(byMethod[m]))
		}
	}
	return allows
}

// mediaGate is the Accept (406) and media type (415) check of a route.
func mediaGate(rt *route, r *http.Request) error {
	if rt.accept && !requestAccept(r).acceptsJSON() {
		return placement.E(placement.NotAcceptable, "Only application/json is provided")
	}
	if rt.json && !web.IsJSONMedia(r.Header.Get("Content-Type")) {
		ct := web.MediaType(r.Header.Get("Content-Type"))
		if ct == "" {
			ct = "None"
		}
		return placement.E(placement.UnsupportedMedia, "The media type %s is not supported, use application/json", ct)
	}
	return nil
}

// dispatch picks the route for the negotiated microversion and runs the
// gates in upstream's order: version → Accept / media type → policy → handler.
func (a *API) dispatch(routes []route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if emptySegment(r) {
			writeError(w, r, placement.E(placement.NotFound, ""))
			return
		}
		v := microversion.From(r.Context())
		var rt *route
		for i := range routes {
			if routes[i].covers(v) {
				rt = &routes[i]
				break
			}
		}
		if rt == nil {
			if routes[0].mediaFirst {
				if err := mediaGate(&routes[0], r); err != nil {
					writeError(w, r, err)
					return
				}
			}
			if routes[0].below405 {
				// Upstream's version gate raises a bare 405: no Allow, no message.
				writeError(w, r, &placement.Error{Kind: placement.MethodNotAllowed})
				return
			}
			writeError(w, r, placement.E(placement.NotFound, ""))
			return
		}
		if err := a.gate(rt, r); err != nil {
			writeError(w, r, err)
			return
		}
		if err := rt.handler(w, r); err != nil {
			writeError(w, r, err)
		}
	}
}

func (a *API) gate(rt *route, r *http.Request) error {
	if err := mediaGate(rt, r); err != nil {
		return err
	}
	if rt.policy == "" {
		return nil
	}
	id := auth.From(r.Context())
	target := map[string]string{"project_id": id.ProjectID, "user_id": id.UserID}
	if rt.target != nil {
		target = rt.target(r)
	}
	return a.Policy.Enforce(rt.policy, id, target)
}
