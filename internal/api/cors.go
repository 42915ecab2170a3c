package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORSOptions are the [cors] options (spec 01 §11). CORS is off while
// AllowedOrigin is empty.
type CORSOptions struct {
	AllowedOrigin    []string // origins, or "*" for any
	AllowCredentials bool
	ExposeHeaders    []string
	MaxAge           int // seconds; 0 sends no Access-Control-Max-Age
	AllowMethods     []string
	AllowHeaders     []string
}

// corsSimpleHeaders may always be requested in a preflight (oslo.middleware).
var corsSimpleHeaders = []string{"Accept", "Accept-Language", "Content-Type", "Cache-Control", "Content-Language", "Expires", "Last-Modified", "Pragma"}

// cors behaves as oslo.middleware's CORS filter, which sits outside
// authentication in upstream's stack: every OPTIONS request is answered
// here with an empty 200 (preflight headers added when the preflight is
// valid), and actual requests from an allowed origin get the origin,
// credentials and expose headers. A disallowed origin gets no CORS headers
// and the request is processed normally.
func (o CORSOptions) middleware(next http.Handler) http.Handler {
	if len(o.AllowedOrigin) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			o.preflight(w, r)
			return
		}
		origin, ok := o.allowed(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&headerHook{ResponseWriter: w, before: func(h http.Header) {
			if h.Get("Access-Control-Allow-Origin") != "" {
				return
			}
			if v := h.Get("Vary"); v != "" {
				h.Set("Vary", v+",Origin")
			} else {
				h.Set("Vary", "Origin")
			}
			h.Set("Access-Control-Allow-Origin", origin)
			if o.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			if len(o.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(o.ExposeHeaders, ","))
			}
		}}, r)
	})
}

// allowed returns the origin to echo ("*" when only the wildcard matches).
func (o CORSOptions) allowed(r *http.Request) (string, bool) {
	values, present := r.Header["Origin"]
	if !present {
		return "", false
	}
	origin := values[0]
	if slices.Contains(o.AllowedOrigin, origin) {
		return origin, true
	}
	if slices.Contains(o.AllowedOrigin, "*") {
		return "*", true
	}
	return "", false
}

// preflight answers an OPTIONS request (CORS spec section 6.2).
func (o CORSOptions) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Length", "0")
	defer w.WriteHeader(http.StatusOK)
	origin, ok := o.allowed(r)
	if !ok {
		return
	}
	method, present := r.Header["Access-Control-Request-Method"]
	if !present || !slices.Contains(o.AllowMethods, method[0]) {
		return
	}
	var requested []string
	if vals, present := r.Header["Access-Control-Request-Headers"]; present {
		for _, v := range strings.Split(vals[0], ",") {
			if v = strings.TrimSpace(v); v != "" {
				requested = append(requested, v)
			}
		}
	}
	for _, want := range requested {
		permitted := slices.ContainsFunc(o.AllowHeaders, func(a string) bool { return strings.EqualFold(a, want) }) ||
			slices.ContainsFunc(corsSimpleHeaders, func(a string) bool { return strings.EqualFold(a, want) })
		if !permitted {
			return
		}
	}
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	if o.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if o.MaxAge != 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(o.MaxAge))
	}
	h.Set("Access-Control-Allow-Methods", method[0])
	if len(requested) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(requested, ","))
	}
}

// headerHook calls before once, just before the status line is written.
type headerHook struct {
	http.ResponseWriter
	before func(http.Header)
	done   bool
}

func (h *headerHook) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.before(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerHook) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *headerHook) Unwrap() http.ResponseWriter { return h.ResponseWriter }
