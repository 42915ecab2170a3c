package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeKeystone implements the two Keystone v3 calls auth_token makes:
// POST /v3/auth/tokens (password) and GET /v3/auth/tokens (validation),
// with real response shapes. Unknown, expired and revoked tokens are 404.
type fakeKeystone struct {
	t           *testing.T
	mu          sync.Mutex
	tokens      map[string]map[string]any // token → "token" body
	validations atomic.Int32
	issued      atomic.Int32
	down        atomic.Bool
	// validatedAt counts validations by path prefix ("/identity",
	// "/internal-identity").
	validatedAt sync.Map
	baseURL     string
}

func newFakeKeystone(t *testing.T) (*fakeKeystone, *httptest.Server) {
	f := &fakeKeystone{t: t, tokens: map[string]map[string]any{}}
	srv := httptest.NewServer(f)
	f.baseURL = srv.URL
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeKeystone) add(token string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := body["expires_at"]; !ok {
		body["expires_at"] = time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	body["methods"] = []string{"password"}
	body["issued_at"] = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	f.tokens[token] = body
}

func (f *fakeKeystone) revoke(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tokens, token)
}

func (f *fakeKeystone) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	prefix, ok := strings.CutSuffix(r.URL.Path, "/v3/auth/tokens")
	if !ok || (prefix != "/identity" && prefix != "/internal-identity") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodPost:
		var req struct {
			Auth struct {
				Identity struct {
					Methods               []string `json:"methods"`
					ApplicationCredential struct {
						ID     string `json:"id"`
						Secret string `json:"secret"`
					} `json:"application_credential"`
					Password struct {
						User struct {
							Name     string            `json:"name"`
							Password string            `json:"password"`
							Domain   map[string]string `json:"domain"`
						} `json:"user"`
					} `json:"password"`
				} `json:"identity"`
				Scope struct {
					Project struct {
						Name   string            `json:"name"`
						Domain map[string]string `json:"domain"`
					} `json:"project"`
				} `json:"scope"`
			} `json:"auth"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		u := req.Auth.Identity.Password.User
		passwordOK := u.Name == "placement" && u.Password == "secret" && u.Domain["name"] == "Default" &&
			req.Auth.Scope.Project.Name == "service" && req.Auth.Scope.Project.Domain["name"] == "Default"
		ac := req.Auth.Identity.ApplicationCredential
		appCredOK := len(req.Auth.Identity.Methods) == 1 && req.Auth.Identity.Methods[0] == "application_credential" &&
			ac.ID == "appcred-id" && ac.Secret == "appsecret"
		if !passwordOK && !appCredOK {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`)
			return
		}
		tok := fmt.Sprintf("svc-%d", f.issued.Add(1))
		body := projectToken("placement-id", "service-project", "service")
		f.add(tok, body)
		w.Header().Set("X-Subject-Token", tok)
		w.WriteHeader(http.StatusCreated)
		out := map[string]any{}
		for k, v := range body {
			out[k] = v
		}
		if _, nocatalog := r.URL.Query()["nocatalog"]; !nocatalog {
			out["catalog"] = []map[string]any{{"type": "identity", "endpoints": []map[string]string{
				{"interface": "public", "region": "RegionOne", "url": f.baseURL + "/public-identity"},
				{"interface": "internal", "region": "RegionTwo", "url": f.baseURL + "/elsewhere"},
				{"interface": "internal", "region": "RegionOne", "url": f.baseURL + "/internal-identity/v3"},
			}}}
		}
		json.NewEncoder(w).Encode(map[string]any{"token": out})
	case http.MethodGet:
		f.validations.Add(1)
		n, _ := f.validatedAt.LoadOrStore(prefix, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		f.mu.Lock()
		_, authOK := f.tokens[r.Header.Get("X-Auth-Token")]
		body, ok := f.tokens[r.Header.Get("X-Subject-Token")]
		f.mu.Unlock()
		if !authOK || !strings.HasPrefix(r.Header.Get("X-Auth-Token"), "svc-") {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`)
			return
		}
		if ok {
			exp, _ := time.Parse("2006-01-02T15:04:05.000000Z", body["expires_at"].(string))
			ok = time.Now().Before(exp)
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error": {"code": 404, "message": "Could not find token: %s.", "title": "Not Found"}}`, r.Header.Get("X-Subject-Token"))
			return
		}
		w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
		json.NewEncoder(w).Encode(map[string]any{"token": body})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func roles(names ...string) []map[string]string {
	out := []map[string]string{}
	for i, n := range names {
		out = append(out, map[string]string{"id": fmt.Sprintf("r%d", i), "name": n})
	}
	return out
}

func projectToken(user, project string, roleNames ...string) map[string]any {
	return map[string]any{
		"user":             map[string]any{"id": user, "name": user, "domain": map[string]string{"id": "default", "name": "Default"}, "password_expires_at": nil},
		"project":          map[string]any{"id": project, "name": project, "domain": map[string]string{"id": "default", "name": "Default"}},
		"roles":            roles(roleNames...),
		"is_domain":        false,
		"audit_ids":        []string{"abc"},
		"is_admin_project": true,
	}
}

func newTestKeystone(t *testing.T, srv *httptest.Server, extra map[string]string) *Keystone {
	t.Helper()
	opts := map[string]string{
		"auth_url": srv.URL + "/identity", "www_authenticate_uri": "https://keystone.example/identity",
		"auth_type": "password", "username": "placement", "password": "secret", "project_name": "service",
		"user_domain_name": "Default", "project_domain_name": "Default",
		"memcached_servers": "localhost:11211",
	}
	for k, v := range extra {
		opts[k] = v
	}
	k, err := NewKeystone(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func authenticate(k *Keystone, headers map[string]string) (Identity, *httptest.ResponseRecorder, bool) {
	req := httptest.NewRequest("GET", "/resource_providers", nil)
	for h, v := range headers {
		req.Header.Set(h, v)
	}
	rec := httptest.NewRecorder()
	id, ok := k.Authenticate(rec, req)
	return id, rec, ok
}

func TestKeystone(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("user-admin", projectToken("u1", "p1", "admin", " member"))
	f.add("user-reader", projectToken("u2", "p2", "reader"))
	f.add("system-reader", map[string]any{
		"user":   map[string]any{"id": "u3", "name": "u3", "domain": map[string]string{"id": "default", "name": "Default"}},
		"system": map[string]bool{"all": true},
		"roles":  roles("reader"),
	})
	f.add("domain-admin", map[string]any{
		"user":   map[string]any{"id": "u4", "name": "u4", "domain": map[string]string{"id": "d1", "name": "D1"}},
		"domain": map[string]string{"id": "d1", "name": "D1"},
		"roles":  roles("admin"),
	})
	f.add("expired", projectToken("u5", "p5", "admin"))
	f.tokens["expired"]["expires_at"] = time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z")
	f.add("nova-service", projectToken("nova", "service-project", "service"))
	f.add("not-admin-project", projectToken("u6", "p6", "admin"))
	f.tokens["not-admin-project"]["is_admin_project"] = false
	k := newTestKeystone(t, srv, nil)

	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
		check   func(t *testing.T, id Identity)
	}{
		{"a project token", map[string]string{"X-Auth-Token": "user-admin"}, true, func(t *testing.T, id Identity) {
			if id.UserID != "u1" || id.ProjectID != "p1" || id.ProjectDomainID != "default" || id.UserDomainID != "default" ||
				strings.Join(id.Roles, ",") != "admin,member" || id.SystemScope != "" || id.DomainID != "" || id.NotAdminProject {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"a system-scoped token", map[string]string{"X-Auth-Token": "system-reader"}, true, func(t *testing.T, id Identity) {
			if id.SystemScope != "all" || id.ProjectID != "" || !id.HasRole("reader") {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"a domain-scoped token", map[string]string{"X-Auth-Token": "domain-admin"}, true, func(t *testing.T, id Identity) {
			if id.DomainID != "d1" || id.ProjectID != "" {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"is_admin_project false", map[string]string{"X-Auth-Token": "not-admin-project"}, true, func(t *testing.T, id Identity) {
			if !id.NotAdminProject {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"with a valid service token", map[string]string{"X-Auth-Token": "user-reader", "X-Service-Token": "nova-service"}, true, func(t *testing.T, id Identity) {
			if id.UserID != "u2" || id.ServiceUserID != "nova" || id.ServiceProjectID != "service-project" || strings.Join(id.ServiceRoles, ",") != "service" {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"headers cannot claim roles", map[string]string{"X-Auth-Token": "user-reader", "X-Roles": "admin", "X-Project-Id": "p1"}, true, func(t *testing.T, id Identity) {
			if id.HasRole("admin") || id.ProjectID != "p2" {
				t.Fatalf("identity = %+v", id)
			}
		}},
		{"no token", map[string]string{}, false, nil},
		{"an unknown token", map[string]string{"X-Auth-Token": "nope"}, false, nil},
		{"an expired token", map[string]string{"X-Auth-Token": "expired"}, false, nil},
		{"an invalid service token", map[string]string{"X-Auth-Token": "user-admin", "X-Service-Token": "nope"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, rec, ok := authenticate(k, tt.headers)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (status %d %s)", ok, tt.ok, rec.Code, rec.Body)
			}
			if ok {
				tt.check(t, id)
				return
			}
			if rec.Code != 401 {
				t.Fatalf("status = %d, want 401", rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Keystone uri="https://keystone.example/identity"` {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			var body map[string]map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"]["message"] != "The request you have made requires authentication." || body["error"]["code"] != 401.0 {
				t.Fatalf("body = %s", rec.Body)
			}
		})
	}
	if n := f.issued.Load(); n != 1 {
		t.Errorf("service token issued %d times, want once", n)
	}
}

func TestKeystone_CacheRevocationAndOutage(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("tok", projectToken("u1", "p1", "admin"))
	k := newTestKeystone(t, srv, nil)
	for range 3 {
		if _, rec, ok := authenticate(k, map[string]string{"X-Auth-Token": "tok"}); !ok {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if n := f.validations.Load(); n != 1 {
		t.Fatalf("validated %d times, want 1 (cached)", n)
	}

	// Without a cache a revoked token is refused at once.
	nocache := newTestKeystone(t, srv, map[string]string{"token_cache_time": "-1"})
	if _, _, ok := authenticate(nocache, map[string]string{"X-Auth-Token": "tok"}); !ok {
		t.Fatal("valid token refused")
	}
	f.revoke("tok")
	if _, rec, ok := authenticate(nocache, map[string]string{"X-Auth-Token": "tok"}); ok || rec.Code != 401 {
		t.Fatalf("revoked token: ok=%v status=%d", ok, rec.Code)
	}

	// Keystone down: 503, not 401.
	f.add("tok2", projectToken("u1", "p1", "admin"))
	f.down.Store(true)
	_, rec, ok := authenticate(nocache, map[string]string{"X-Auth-Token": "tok2"})
	if ok || rec.Code != 503 || !strings.Contains(rec.Body.String(), "The Keystone service is temporarily unavailable.") {
		t.Fatalf("keystone down: ok=%v status=%d body=%s", ok, rec.Code, rec.Body)
	}
	// Unreachable: 503 too.
	gone := newTestKeystone(t, srv, map[string]string{"auth_url": "http://127.0.0.1:1/identity", "token_cache_time": "-1"})
	if _, rec, ok := authenticate(gone, map[string]string{"X-Auth-Token": "tok2"}); ok || rec.Code != 503 {
		t.Fatalf("keystone unreachable: ok=%v status=%d", ok, rec.Code)
	}
	// Back up: works again without a restart.
	f.down.Store(false)
	if _, rec, ok := authenticate(nocache, map[string]string{"X-Auth-Token": "tok2"}); !ok {
		t.Fatalf("after recovery: status %d", rec.Code)
	}
}

func TestKeystone_ServiceTokenRenewal(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("tok", projectToken("u1", "p1", "admin"))
	k := newTestKeystone(t, srv, map[string]string{"token_cache_time": "-1"})
	if _, _, ok := authenticate(k, map[string]string{"X-Auth-Token": "tok"}); !ok {
		t.Fatal("refused")
	}
	f.revoke("svc-1")
	if _, rec, ok := authenticate(k, map[string]string{"X-Auth-Token": "tok"}); !ok {
		t.Fatalf("not renewed: status %d", rec.Code)
	}
	if n := f.issued.Load(); n != 2 {
		t.Fatalf("service tokens issued = %d, want 2", n)
	}
}

func TestKeystone_ServiceTokenRolesRequired(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("tok", projectToken("u1", "p1", "admin"))
	f.add("not-a-service", projectToken("u2", "p2", "member"))
	k := newTestKeystone(t, srv, map[string]string{"service_token_roles_required": "true"})
	if _, rec, ok := authenticate(k, map[string]string{"X-Auth-Token": "tok", "X-Service-Token": "not-a-service"}); ok || rec.Code != 401 {
		t.Fatalf("ok=%v status=%d", ok, rec.Code)
	}
}

func TestNewKeystone_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"no auth_url", map[string]string{"username": "u", "password": "p", "project_name": "s"}, "auth_url is required"},
		{"no credentials", map[string]string{"auth_url": "http://k"}, "username, password and project_name are required"},
		{"another plugin", map[string]string{"auth_url": "http://k", "auth_type": "token"}, "not supported"},
		{"an application credential without a secret", map[string]string{"auth_url": "http://k", "auth_type": "v3applicationcredential", "application_credential_id": "x"}, "needs application_credential_secret"},
		{"an application credential by name without its user", map[string]string{"auth_url": "http://k", "auth_type": "v3applicationcredential", "application_credential_name": "x", "application_credential_secret": "s"}, "needs application_credential_secret"},
		{"a bad cache time", map[string]string{"auth_url": "http://k", "username": "u", "password": "p", "project_name": "s", "token_cache_time": "x"}, "token_cache_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewKeystone(tt.opts, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKeystone_AmbiguousOrOverlongTokens(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("user-admin", projectToken("u1", "p1", "admin"))
	f.add("nova-service", projectToken("nova", "service-project", "service"))
	longest := strings.Repeat("a", MaxTokenBytes)
	f.add(longest, projectToken("u2", "p2", "admin"))
	k := newTestKeystone(t, srv, map[string]string{"token_cache_time": "-1"})

	send := func(h http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/resource_providers", nil)
		req.Header = h
		rec := httptest.NewRecorder()
		if _, ok := k.Authenticate(rec, req); ok {
			rec.Code = http.StatusOK
		}
		return rec
	}
	if rec := send(http.Header{"X-Auth-Token": {longest}}); rec.Code != http.StatusOK {
		t.Fatalf("a token of MaxTokenBytes: status %d, want it validated", rec.Code)
	}

	// Keystone is down, so anything that asks it answers 503: a 401 shows
	// the token was refused without asking.
	f.down.Store(true)
	before := f.validations.Load()
	tests := []struct {
		name   string
		header http.Header
	}{
		{"two X-Auth-Token headers", http.Header{"X-Auth-Token": {"user-admin", "user-admin"}}},
		{"two X-Service-Token headers", http.Header{"X-Auth-Token": {"user-admin"}, "X-Service-Token": {"nova-service", "nova-service"}}},
		{"an X-Auth-Token longer than MaxTokenBytes", http.Header{"X-Auth-Token": {longest + "a"}}},
		{"an X-Service-Token longer than MaxTokenBytes", http.Header{"X-Auth-Token": {"user-admin"}, "X-Service-Token": {longest + "a"}}},
		{"a NUL in X-Auth-Token", http.Header{"X-Auth-Token": {"user\x00admin"}}},
		{"a control character in X-Service-Token", http.Header{"X-Auth-Token": {"user-admin"}, "X-Service-Token": {"nova\x01service"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := send(tt.header)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "requires authentication") {
				t.Fatalf("status %d body %s, want keystonemiddleware's 401", rec.Code, rec.Body)
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate")
			}
		})
	}
	if n := f.validations.Load() - before; n != 0 {
		t.Fatalf("keystone asked %d times, want 0", n)
	}
}

// TestKeystone_ApplicationCredentialAndCatalogEndpoint: the service
// authenticates with an application credential, and with interface and
// region_name set it validates tokens at the matching catalog endpoint.
func TestKeystone_ApplicationCredentialAndCatalogEndpoint(t *testing.T) {
	t.Parallel()
	f, srv := newFakeKeystone(t)
	f.add("user-admin", projectToken("u1", "p1", "admin"))
	k, err := NewKeystone(map[string]string{
		"auth_url": srv.URL + "/identity", "auth_type": "v3applicationcredential",
		"application_credential_id": "appcred-id", "application_credential_secret": "appsecret",
		"interface": "internal", "region_name": "RegionOne",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	id, rec, ok := authenticate(k, map[string]string{"X-Auth-Token": "user-admin"})
	if !ok || id.ProjectID != "p1" {
		t.Fatalf("authenticate = %v, %v (%d %s)", id, ok, rec.Code, rec.Body)
	}
	at := func(prefix string) int32 {
		if n, ok := f.validatedAt.Load(prefix); ok {
			return n.(*atomic.Int32).Load()
		}
		return 0
	}
	if at("/internal-identity") != 1 || at("/identity") != 0 {
		t.Errorf("validations: %d at the internal endpoint, %d at auth_url; want 1 and 0", at("/internal-identity"), at("/identity"))
	}

	// A wrong secret is refused by Keystone: 503, as for any service
	// authentication failure.
	bad, err := NewKeystone(map[string]string{
		"auth_url": srv.URL + "/identity", "auth_type": "v3applicationcredential",
		"application_credential_id": "appcred-id", "application_credential_secret": "wrong",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, rec, ok := authenticate(bad, map[string]string{"X-Auth-Token": "user-admin"}); ok || rec.Code != 503 {
		t.Errorf("wrong secret: ok=%v status %d, want 503", ok, rec.Code)
	}
}
