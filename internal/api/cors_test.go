package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// testAPI is an API without a store: enough for everything answered before
// a handler touches the database.
func testAPI(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Health == nil {
		opts.Health = func(context.Context) error { return nil }
	}
	return New(nil, opts).Handler()
}

func serve(h http.Handler, method, path string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var corsOn = CORSOptions{
	AllowedOrigin:    []string{"http://ui.example"},
	AllowCredentials: true,
	ExposeHeaders:    []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Subject-Token", "X-Service-Token", "OpenStack-API-Version"},
	MaxAge:           3600,
	AllowMethods:     []string{"GET", "PUT", "POST", "DELETE", "PATCH"},
	AllowHeaders:     []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Identity-Status", "X-Roles", "X-Service-Catalog", "X-User-Id", "X-Tenant-Id", "OpenStack-API-Version"},
}

func TestCORS(t *testing.T) {
	t.Parallel()
	on := testAPI(Options{CORS: corsOn})
	off := testAPI(Options{})
	wildcard := testAPI(Options{CORS: CORSOptions{AllowedOrigin: []string{"*"}, AllowMethods: []string{"GET"}}})
	tests := []struct {
		name    string
		h       http.Handler
		method  string
		path    string
		headers map[string]string
		status  int
		want    map[string]string // "" means absent
	}{
		{
			name: "a valid preflight gets every preflight header", h: on, method: "OPTIONS", path: "/resource_providers",
			headers: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-auth-token, Content-Type"},
			status:  200,
			want: map[string]string{
				"Access-Control-Allow-Origin": "http://ui.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age": "3600", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "x-auth-token,Content-Type", "Vary": "Origin",
				"Content-Length": "0", "Content-Type": "", "Openstack-Api-Version": "",
			},
		},
		{
			name: "a preflight needs no token and skips microversion checks", h: on, method: "OPTIONS", path: "/nowhere",
			headers: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "DELETE", "OpenStack-API-Version": "placement 9.9"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Methods": "DELETE", "Access-Control-Allow-Headers": ""},
		},
		{
			name: "a preflight from another origin gets no CORS headers", h: on, method: "OPTIONS", path: "/",
			headers: map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""},
		},
		{
			name: "a preflight with a method not allowed", h: on, method: "OPTIONS", path: "/",
			headers: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "OPTIONS"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "a preflight with a header not allowed", h: on, method: "OPTIONS", path: "/",
			headers: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Secret"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "a preflight without a method", h: on, method: "OPTIONS", path: "/",
			headers: map[string]string{"Origin": "http://ui.example"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "an actual request from an allowed origin", h: on, method: "GET", path: "/",
			headers: map[string]string{"Origin": "http://ui.example"},
			status:  200,
			want: map[string]string{
				"Access-Control-Allow-Origin": "http://ui.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Auth-Token,X-Openstack-Request-Id,X-Subject-Token,X-Service-Token,OpenStack-API-Version",
				"Vary":                          "openstack-api-version,Origin", "Access-Control-Max-Age": "",
			},
		},
		{
			name: "a 401 from an allowed origin still carries CORS headers", h: on, method: "GET", path: "/resource_providers",
			headers: map[string]string{"Origin": "http://ui.example"},
			status:  401,
			want:    map[string]string{"Access-Control-Allow-Origin": "http://ui.example", "Vary": "Origin"},
		},
		{
			name: "an actual request from another origin is served without CORS headers", h: on, method: "GET", path: "/",
			headers: map[string]string{"Origin": "http://evil.example"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": "", "Vary": "openstack-api-version"},
		},
		{
			name: "the wildcard origin answers *", h: wildcard, method: "GET", path: "/",
			headers: map[string]string{"Origin": "http://any.example"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""},
		},
		{
			name: "CORS off: OPTIONS is an ordinary method", h: off, method: "OPTIONS", path: "/",
			headers: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "GET", "X-Auth-Token": "admin"},
			status:  405,
			want:    map[string]string{"Access-Control-Allow-Origin": "", "Allow": "GET"},
		},
		{
			name: "CORS off: no headers on actual requests", h: off, method: "GET", path: "/",
			headers: map[string]string{"Origin": "http://ui.example"},
			status:  200,
			want:    map[string]string{"Access-Control-Allow-Origin": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(tt.h, tt.method, tt.path, tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if rec.Header().Get("X-Openstack-Request-Id") == "" {
				t.Errorf("no x-openstack-request-id")
			}
			for k, want := range tt.want {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
