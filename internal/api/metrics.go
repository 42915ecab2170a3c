package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/metrics"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// MetricsRule is the policy rule guarding /metrics on the API listener.
const MetricsRule = "admin_api"

// unmatched labels requests no route matched (404s, 401s, 405s).
const unmatched = "unmatched"

type statsKey struct{}

// requestStats is what the renderer needs to count an error.
type requestStats struct {
	m     *metrics.Placement
	route *chi.Context
}

// instrument counts requests and their latency by chi route pattern. It
// gives the router a routing context up front so the matched pattern can
// be read once the request is done.
func (a *API) instrument(next http.Handler) http.Handler {
	m := a.Metrics
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rctx := chi.NewRouteContext()
		ctx := context.WithValue(r.Context(), chi.RouteCtxKey, rctx)
		ctx = context.WithValue(ctx, statsKey{}, &requestStats{m: m, route: rctx})
		rec := &statusRecorder{ResponseWriter: w}
		rec.serve(next, r.WithContext(ctx), func() { observe(m, rctx, r, rec, start) })
	})
}

// observe counts one request and its latency.
func observe(m *metrics.Placement, rctx *chi.Context, r *http.Request, rec *statusRecorder, start time.Time) {
	elapsed := time.Since(start).Seconds()
	route := routeLabel(rctx, r)
	version := "-"
	if v := rec.Header().Get(microversion.Header); len(v) > len(microversion.ServiceType) {
		version = v[len(microversion.ServiceType)+1:]
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	code := strconv.Itoa(status)
	method := methodLabel(r.Method)
	m.Requests.WithLabelValues(route, method, version, code).Inc()
	m.Latency.WithLabelValues(route, method, version, code).Observe(elapsed)
	if route == "/allocation_candidates" && r.Method == http.MethodGet {
		m.Candidates.WithLabelValues(code).Observe(elapsed)
	}
}

// methodLabel is the method label of a request: its method when HTTP
// defines it, else "other". A client may send any token as a method, and
// each label value is a series kept for the life of the process.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func routeLabel(rctx *chi.Context, r *http.Request) string {
	switch r.URL.Path {
	case "/healthcheck", "/metrics":
		return r.URL.Path
	}
	if p := rctx.RoutePattern(); p != "" {
		return p
	}
	return unmatched
}

// countError records an error response for the metrics; the renderer calls
// it with the status and Placement error code it sends.
func countError(r *http.Request, status int, code string) {
	st, ok := r.Context().Value(statsKey{}).(*requestStats)
	if !ok {
		return
	}
	st.m.Errors.WithLabelValues(strconv.Itoa(status), code).Inc()
	if code == placement.CodeConcurrentUpdate {
		st.m.GenerationConflicts.WithLabelValues(routeLabel(st.route, r)).Inc()
	}
}

// serveMetrics answers /metrics on the API listener for callers the
// admin_api rule allows.
func (a *API) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, r, errMethodNotAllowed)
		return
	}
	if err := a.Policy.Enforce(MetricsRule, auth.From(r.Context()), map[string]string{}); err != nil {
		writeError(w, r, err)
		return
	}
	metrics.Handler(a.Metrics.Registry).ServeHTTP(w, r)
}

func (a *API) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
