package api

import (
	"net/http"
	"strings"

	"github.com/openstack-placement-go/placement/internal/web"
)

// mountPrefix serves the API under prefix (e.g. "/placement"): the prefix
// is removed before routing and remembered for links, so bodies carry
// "/placement/resource_providers/…" as upstream does under a prefix. The
// root document answers at both "<prefix>/" and "<prefix>". Paths outside
// the prefix are left alone and end as 404s.
func mountPrefix(prefix string, next http.Handler) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok && (rest == "" || rest[0] == '/') {
			if rest == "" {
				rest = "/"
			}
			r2 := r.Clone(web.WithPrefix(r.Context(), prefix))
			r2.URL.Path = rest
			r2.URL.RawPath = ""
			// Keep the rest as sent for wsgiPath (its escapes, its dots).
			if raw, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix); ok && raw != "" && raw[0] == '/' {
				r2.URL.RawPath = raw
			}
			next.ServeHTTP(w, r2)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// proxyHeaders applies what a trusted reverse proxy says about the original
// request, as oslo.middleware's HTTPProxyToWSGI does when
// [oslo_middleware] enable_proxy_headers_parsing is set: the scheme and host
// from Forwarded (RFC 7239) or X-Forwarded-Proto/-Host, and a mount prefix
// from X-Forwarded-Prefix. They shape absolute Location URLs and links.
func proxyHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		proto, host := forwarded(r.Header.Get("Forwarded"))
		if proto == "" {
			proto = firstValue(r.Header.Get("X-Forwarded-Proto"))
		}
		if host == "" {
			host = firstValue(r.Header.Get("X-Forwarded-Host"))
		}
		if proto != "" {
			ctx = web.WithScheme(ctx, proto)
		}
		if host != "" {
			r.Host = host
		}
		if prefix := strings.TrimSuffix(firstValue(r.Header.Get("X-Forwarded-Prefix")), "/"); prefix != "" {
			ctx = web.WithPrefix(ctx, prefix)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// forwarded reads proto= and host= from the first element of a Forwarded
// header.
func forwarded(h string) (proto, host string) {
	first, _, _ := strings.Cut(h, ",")
	for _, pair := range strings.Split(first, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch strings.ToLower(k) {
		case "proto":
			proto = v
		case "host":
			host = v
		}
	}
	return proto, host
}

func firstValue(h string) string {
	first, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(first)
}
