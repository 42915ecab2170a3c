package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openstack-placement-go/placement/internal/web"
)

func TestMountPrefix(t *testing.T) {
	t.Parallel()
	var gotPath, gotLink string
	h := mountPrefix("/placement/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotLink = r.URL.Path, web.Link(r, "/traits")
	}))
	tests := []struct{ path, wantPath, wantLink string }{
		{"/placement/resource_providers", "/resource_providers", "/placement/traits"},
		{"/placement", "/", "/placement/traits"},
		{"/placement/", "/", "/placement/traits"},
		{"/placementx/y", "/placementx/y", "/traits"},
		{"/resource_providers", "/resource_providers", "/traits"},
	}
	for _, tt := range tests {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
		if gotPath != tt.wantPath || gotLink != tt.wantLink {
			t.Errorf("%s: routed %q with link %q, want %q and %q", tt.path, gotPath, gotLink, tt.wantPath, tt.wantLink)
		}
	}
}

func TestProxyHeaders(t *testing.T) {
	t.Parallel()
	var got string
	h := proxyHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = web.AbsoluteURL(r, "/traits/CUSTOM_X")
	}))
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"no proxy headers", nil, "http://example.com/traits/CUSTOM_X"},
		{"x-forwarded", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.cloud"}, "https://api.cloud/traits/CUSTOM_X"},
		{"forwarded wins", map[string]string{"Forwarded": `for=1.2.3.4;proto=https;host="p.cloud"`, "X-Forwarded-Proto": "http"}, "https://p.cloud/traits/CUSTOM_X"},
		{"prefix", map[string]string{"X-Forwarded-Prefix": "/placement"}, "http://example.com/placement/traits/CUSTOM_X"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/traits", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("%s: Location %q, want %q", tt.name, got, tt.want)
		}
	}
}
