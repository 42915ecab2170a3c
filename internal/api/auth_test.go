package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/auth"
)

// TestKeystoneChain runs the middleware chain with the Keystone
// authenticator against a minimal fake Keystone (the full fake is in
// internal/auth).
func TestKeystoneChain(t *testing.T) {
	t.Parallel()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tokens := map[string]string{
		"admin-token":  `{"token": {"expires_at": "` + exp + `", "user": {"id": "u1", "domain": {"id": "default"}}, "project": {"id": "p1", "domain": {"id": "default"}}, "roles": [{"id": "1", "name": "admin"}]}}`,
		"reader-token": `{"token": {"expires_at": "` + exp + `", "user": {"id": "u2", "domain": {"id": "default"}}, "project": {"id": "p2", "domain": {"id": "default"}}, "roles": [{"id": "2", "name": "reader"}]}}`,
	}
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.Header().Set("X-Subject-Token", "svc")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"token": {"expires_at": "`+exp+`", "user": {"id": "placement"}}}`)
			return
		}
		body, ok := tokens[r.Header.Get("X-Subject-Token")]
		if r.Header.Get("X-Auth-Token") != "svc" || !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error": {"code": 404, "message": "Could not find token.", "title": "Not Found"}}`)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(ks.Close)
	k, err := auth.NewKeystone(map[string]string{
		"auth_url": ks.URL + "/v3", "www_authenticate_uri": "http://public.example:5000",
		"username": "placement", "password": "pw", "project_name": "service",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h := testAPI(Options{Auth: k})
	v := "OpenStack-API-Version"

	rec := serve(h, "GET", "/", nil)
	if rec.Code != 200 {
		t.Fatalf("GET / = %d, want 200 without a token", rec.Code)
	}
	rec = serve(h, "GET", "/resource_providers", map[string]string{v: "placement 1.99"})
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Keystone uri="http://public.example:5000"` || rec.Header().Get(v) != "" {
		t.Fatalf("no token: %d %v", rec.Code, rec.Header())
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"]["title"] != "Unauthorized" {
		t.Fatalf("401 body = %s", rec.Body)
	}
	if rec.Header().Get("X-Openstack-Request-Id") == "" {
		t.Fatal("401 without a request id")
	}
	rec = serve(h, "GET", "/resource_providers", map[string]string{"X-Auth-Token": "bogus"})
	if rec.Code != 401 {
		t.Fatalf("bad token: %d", rec.Code)
	}
	rec = serve(h, "GET", "/resource_providers", map[string]string{"X-Auth-Token": "reader-token", "X-Roles": "admin", v: "placement 1.20"})
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "Policy does not allow placement:resource_providers:list to be performed.") {
		t.Fatalf("reader: %d %s", rec.Code, rec.Body)
	}
	// Below 1.2 the route does not exist: a 404 (not 401) shows the admin
	// token was accepted, without needing a database.
	rec = serve(h, "GET", "/resource_classes/CUSTOM_X", map[string]string{"X-Auth-Token": "admin-token", v: "placement 1.1"})
	if rec.Code != 404 {
		t.Fatalf("admin: %d %s", rec.Code, rec.Body)
	}
}
