package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openstack-placement-go/placement/internal/config"
)

// Keystone validates X-Auth-Token (and X-Service-Token) against the Keystone
// v3 API the way keystonemiddleware's auth_token does: with a service token
// of its own obtained by password or application-credential
// authentication, a bounded cache of
// validated tokens, 401 with WWW-Authenticate for missing or invalid
// tokens, and 503 when Keystone cannot be reached.
type Keystone struct {
	identityURL string // ends in /v3; where the service authenticates
	wwwAuth     string
	creds       credentials
	// With region_name or interface set, tokens are validated at the
	// identity endpoint of the service catalog that matches them.
	region, iface        string
	client               *http.Client
	cacheTTL             time.Duration
	cacheSize            int
	serviceRoles         []string
	serviceRolesRequired bool
	logger               *slog.Logger

	mu           sync.Mutex // guards the service token
	serviceToken string
	serviceUntil time.Time
	validateURL  string // ends in /v3; identityURL unless the catalog names another

	cacheMu sync.Mutex
	cache   map[[32]byte]cacheEntry
}

type cacheEntry struct {
	tok   *v3Token
	until time.Time
}

type passwordAuth struct {
	username, password, userDomainName, userDomainID string
	projectName, projectDomainName, projectDomainID  string
	projectID                                        string
}

// KeystoneOptions are the [keystone_authtoken] keys used, as written in the
// file.
//
//	auth_url             Keystone endpoint for validation (required), with or without /v3
//	www_authenticate_uri public endpoint named in WWW-Authenticate (default auth_url)
//	auth_type            password (default), v3password or v3applicationcredential
//	username, password   the service user (required for password)
//	user_domain_name / user_domain_id       (default domain "Default")
//	project_name / project_id               the service project (required for password)
//	project_domain_name / project_domain_id (default domain "Default")
//	application_credential_id, or _name with username or user_id,
//	application_credential_secret           (v3applicationcredential)
//	region_name, interface                  pick the identity endpoint of the
//	                                        service catalog that validates tokens
//	                                        (default: auth_url itself)
//	token_cache_time     seconds a validated token is cached (default 300; -1: no cache)
//	service_token_roles  roles a service token must have (default "service")
//	service_token_roles_required (default false)
//	http_connect_timeout seconds (default 10)
//	cafile, insecure     TLS trust
//
// Other keys (memcached_servers, memcache_*, …) are accepted and ignored:
// the token cache is in process memory, so no memcached is needed.
func NewKeystone(opts map[string]string, logger *slog.Logger) (*Keystone, error) {
	get := func(k string) string { return strings.TrimSpace(opts[k]) }
	if logger == nil {
		logger = slog.Default()
	}
	authURL := get("auth_url")
	if authURL == "" {
		return nil, errors.New("[keystone_authtoken] auth_url is required with auth_strategy = keystone")
	}
	creds, err := credentialsFrom(get, opts)
	if err != nil {
		return nil, err
	}
	k := &Keystone{
		identityURL:  identityV3(authURL),
		wwwAuth:      get("www_authenticate_uri"),
		creds:        creds,
		region:       get("region_name"),
		iface:        get("interface"),
		cacheTTL:     300 * time.Second,
		cacheSize:    10000,
		serviceRoles: []string{"service"},
		logger:       logger,
		cache:        map[[32]byte]cacheEntry{},
	}
	if k.wwwAuth == "" {
		k.wwwAuth = get("auth_uri")
	}
	if k.wwwAuth == "" {
		k.wwwAuth = authURL
	}
	if v := get("token_cache_time"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("[keystone_authtoken] token_cache_time: %v", err)
		}
		k.cacheTTL = time.Duration(n) * time.Second
	}
	if v := get("service_token_roles"); v != "" {
		k.serviceRoles = config.SplitList(v)
	}
	if v := get("service_token_roles_required"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("[keystone_authtoken] service_token_roles_required: %v", err)
		}
		k.serviceRolesRequired = b
	}
	timeout := 10 * time.Second
	if v := get("http_connect_timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("[keystone_authtoken] http_connect_timeout: %v", err)
		}
		timeout = time.Duration(n) * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ca := get("cafile"); ca != "" || get("insecure") != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Errorf("[keystone_authtoken] cafile: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("[keystone_authtoken] cafile %s holds no certificate", ca)
			}
			cfg.RootCAs = pool
		}
		if b, _ := strconv.ParseBool(get("insecure")); b {
			cfg.InsecureSkipVerify = true // operator's explicit choice ([keystone_authtoken] insecure)
		}
		tr.TLSClientConfig = cfg
	}
	k.client = &http.Client{Transport: tr, Timeout: timeout}
	return k, nil
}

// WithHTTPClient replaces the HTTP client (tests).
func (k *Keystone) WithHTTPClient(c *http.Client) *Keystone {
	k.client = c
	return k
}

func identityV3(u string) string {
	u = strings.TrimRight(u, "/")
	if strings.HasSuffix(u, "/v3") {
		return u
	}
	return u + "/v3"
}

// keystone401 is keystonemiddleware's rejection body.
const keystone401 = `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`

// keystone503 is WebOb's JSON rendering of keystonemiddleware's
// HTTPServiceUnavailable.
const keystone503 = `{"message": "The server is currently unavailable. Please try again at a later time.<br /><br />\nThe Keystone service is temporarily unavailable.\n\n", "code": "503 Service Unavailable", "title": "Service Unavailable"}`

// errInvalidToken means Keystone does not know the token (404), or it has
// expired.
var errInvalidToken = errors.New("invalid token")

// MaxTokenBytes is the longest token sent to Keystone; a longer one is
// refused with 401 at once. Fernet tokens are under 300 bytes and JWS tokens
// about 800; the PKI tokens that reached several KiB were removed in Ocata.
// 8 KiB is also what Keystone's usual front ends accept for a whole header
// line (Apache's LimitRequestFieldSize 8190, nginx's 8k header buffers), so
// a longer token could never be validated: asking would only earn a dropped
// connection or a 400, which look like a Keystone outage (503).
const MaxTokenBytes = 8 << 10

// singleToken returns the one value of header h. ok is false when the
// header is repeated (which value would count is ambiguous), longer than
// MaxTokenBytes, or holds a control character (no token does, and an HTTP
// client cannot send one on to Keystone); a missing header is "" and ok.
func singleToken(r *http.Request, h string) (token string, ok bool) {
	vs := r.Header.Values(h)
	switch {
	case len(vs) == 0:
		return "", true
	case len(vs) > 1:
		return "", false
	}
	token = strings.TrimSpace(vs[0])
	if len(token) > MaxTokenBytes {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if token[i] < ' ' || token[i] == 0x7f {
			return "", false
		}
	}
	return token, true
}

// Authenticate implements Authenticator.
func (k *Keystone) Authenticate(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	userToken, ok := singleToken(r, "X-Auth-Token")
	if !ok {
		k.logger.InfoContext(r.Context(), "repeated, over-long or malformed X-Auth-Token refused", "max_bytes", MaxTokenBytes)
	}
	if !ok || userToken == "" {
		k.reject(w)
		return Identity{}, false
	}
	st, ok := singleToken(r, "X-Service-Token")
	if !ok {
		k.logger.InfoContext(r.Context(), "repeated, over-long or malformed X-Service-Token refused", "max_bytes", MaxTokenBytes)
		k.reject(w)
		return Identity{}, false
	}
	var id Identity
	if st != "" {
		svc, ok := k.check(w, r, st, "service token")
		if !ok {
			return Identity{}, false
		}
		if k.serviceRolesRequired && !hasAny(svc.roleNames(), k.serviceRoles) {
			k.logger.InfoContext(r.Context(), "service token lacks the service_token_roles")
			k.reject(w)
			return Identity{}, false
		}
		id.ServiceUserID, id.ServiceUserDomainID = svc.User.ID, svc.User.Domain.ID
		if svc.Project != nil {
			id.ServiceProjectID, id.ServiceProjectDomainID = svc.Project.ID, svc.Project.Domain.ID
		}
		id.ServiceRoles = svc.roleNames()
	}
	tok, ok := k.check(w, r, userToken, "user token")
	if !ok {
		return Identity{}, false
	}
	if tok.User.ID == "" {
		writeJSON(w, http.StatusUnauthorized, WebOb401)
		return Identity{}, false
	}
	id.UserID, id.UserDomainID = tok.User.ID, tok.User.Domain.ID
	if tok.Project != nil {
		id.ProjectID, id.ProjectDomainID = tok.Project.ID, tok.Project.Domain.ID
	}
	if tok.Domain != nil && tok.Project == nil {
		id.DomainID = tok.Domain.ID
	}
	if tok.System != nil && tok.System["all"] {
		id.SystemScope = "all"
	}
	if tok.IsAdminProject != nil && !*tok.IsAdminProject {
		id.NotAdminProject = true
	}
	id.Roles = tok.roleNames()
	return id, true
}

// check validates token. When it is not valid or Keystone cannot say, it
// answers the request itself (401 or 503) and returns false; what names
// the token in the log.
func (k *Keystone) check(w http.ResponseWriter, r *http.Request, token, what string) (*v3Token, bool) {
	t, err := k.validate(r.Context(), token)
	if err == nil {
		return t, true
	}
	if !k.unavailable(w, r, err) {
		k.logger.InfoContext(r.Context(), "invalid "+what)
		k.reject(w)
	}
	return nil, false
}

func (k *Keystone) reject(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", k.wwwAuth))
	writeJSON(w, http.StatusUnauthorized, keystone401)
}

// unavailable answers 503 (and reports true) for anything but an invalid
// token.
func (k *Keystone) unavailable(w http.ResponseWriter, r *http.Request, err error) bool {
	if errors.Is(err, errInvalidToken) {
		return false
	}
	k.logger.ErrorContext(r.Context(), "unable to validate token", "error", err)
	writeJSON(w, http.StatusServiceUnavailable, keystone503)
	return true
}

func hasAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// v3Token is the part of Keystone's token body we read.
type v3Token struct {
	ExpiresAt      time.Time               `json:"expires_at"`
	User           v3Ref                   `json:"user"`
	Project        *v3Ref                  `json:"project"`
	Domain         *v3Ref                  `json:"domain"`
	System         map[string]bool         `json:"system"`
	Roles          []struct{ Name string } `json:"roles"`
	IsAdminProject *bool                   `json:"is_admin_project"`
	Catalog        []struct {
		Type      string `json:"type"`
		Endpoints []struct {
			Interface string `json:"interface"`
			Region    string `json:"region"`
			RegionID  string `json:"region_id"`
			URL       string `json:"url"`
		} `json:"endpoints"`
	} `json:"catalog"`
}

// identityEndpoint returns the URL of the catalog's identity endpoint with
// interface iface (default "internal", as keystonemiddleware) in region
// (any when empty), or "".
func (t *v3Token) identityEndpoint(region, iface string) string {
	if iface == "" {
		iface = "internal"
	}
	iface = strings.TrimSuffix(iface, "URL") // publicURL, internalURL, adminURL
	for _, svc := range t.Catalog {
		if svc.Type != "identity" {
			continue
		}
		for _, e := range svc.Endpoints {
			if e.Interface == iface && (region == "" || e.Region == region || e.RegionID == region) {
				return e.URL
			}
		}
	}
	return ""
}

type v3Ref struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"domain"`
}

func (t *v3Token) roleNames() []string {
	out := make([]string, 0, len(t.Roles))
	for _, r := range t.Roles {
		if n := strings.TrimSpace(r.Name); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// validate returns the token's data from the cache or from Keystone.
func (k *Keystone) validate(ctx context.Context, token string) (*v3Token, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	k.cacheMu.Lock()
	e, ok := k.cache[key]
	k.cacheMu.Unlock()
	if ok && now.Before(e.until) {
		return e.tok, nil
	}
	tok, err := k.fetch(ctx, token)
	if err != nil {
		return nil, err
	}
	if !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt) {
		return nil, errInvalidToken
	}
	if k.cacheTTL > 0 {
		until := now.Add(k.cacheTTL)
		if !tok.ExpiresAt.IsZero() && tok.ExpiresAt.Before(until) {
			until = tok.ExpiresAt
		}
		k.store(key, cacheEntry{tok: tok, until: until}, now)
	}
	return tok, nil
}

// store adds an entry, first dropping expired ones and then arbitrary ones
// when the cache is full.
func (k *Keystone) store(key [32]byte, e cacheEntry, now time.Time) {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	if len(k.cache) >= k.cacheSize {
		for kk, v := range k.cache {
			if !now.Before(v.until) {
				delete(k.cache, kk)
			}
		}
		for kk := range k.cache {
			if len(k.cache) < k.cacheSize {
				break
			}
			delete(k.cache, kk)
		}
	}
	k.cache[key] = e
}

// fetch asks Keystone about token (GET /v3/auth/tokens), renewing the
// service token once if Keystone refuses it.
func (k *Keystone) fetch(ctx context.Context, token string) (*v3Token, error) {
	for attempt := 0; ; attempt++ {
		svc, err := k.service(ctx, attempt > 0)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.validationURL()+"/auth/tokens?nocatalog", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", token)
		req.Header.Set("Accept", "application/json")
		resp, err := k.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("validating a token with keystone: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("validating a token with keystone: %w", err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			var doc struct {
				Token v3Token `json:"token"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				k.logger.Warn("invalid token contents from keystone", "error", err)
				return nil, errInvalidToken
			}
			return &doc.Token, nil
		case resp.StatusCode == http.StatusNotFound:
			return nil, errInvalidToken
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			continue // our service token expired or was revoked
		default:
			return nil, fmt.Errorf("keystone answered %s to a token validation", resp.Status)
		}
	}
}

// service returns the service token, authenticating when there is none,
// it is about to expire, or renew is set.
func (k *Keystone) service(ctx context.Context, renew bool) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !renew && k.serviceToken != "" && time.Now().Add(30*time.Second).Before(k.serviceUntil) {
		return k.serviceToken, nil
	}
	body, _ := json.Marshal(k.creds.request())
	query := "?nocatalog"
	if k.region != "" || k.iface != "" {
		query = "" // the catalog names the endpoint that validates tokens
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.identityURL+"/auth/tokens"+query, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("authenticating the placement service user with keystone: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authenticating the placement service user with keystone: %s", resp.Status)
	}
	tok := resp.Header.Get("X-Subject-Token")
	var doc struct {
		Token v3Token `json:"token"`
	}
	if tok == "" || json.Unmarshal(data, &doc) != nil {
		return "", errors.New("authenticating the placement service user with keystone: malformed response")
	}
	k.serviceToken, k.serviceUntil = tok, doc.Token.ExpiresAt
	k.validateURL = k.identityURL
	if k.region != "" || k.iface != "" {
		if u := doc.Token.identityEndpoint(k.region, k.iface); u != "" {
			k.validateURL = identityV3(u)
		} else {
			k.logger.Warn("[keystone_authtoken] no identity endpoint in the service catalog matches region_name and interface; validating tokens at auth_url",
				"region_name", k.region, "interface", k.iface)
		}
	}
	if k.serviceUntil.IsZero() {
		k.serviceUntil = time.Now().Add(time.Hour)
	}
	return tok, nil
}

// credentials authenticate the service user.
type credentials interface {
	request() any // the POST /v3/auth/tokens body
}

// credentialsFrom reads the service user's credentials of auth_type.
func credentialsFrom(get func(string) string, opts map[string]string) (credentials, error) {
	switch t := get("auth_type"); t {
	case "", "password", "v3password":
		p := passwordAuth{
			username: get("username"), password: opts["password"],
			userDomainName: get("user_domain_name"), userDomainID: get("user_domain_id"),
			projectName: get("project_name"), projectID: get("project_id"),
			projectDomainName: get("project_domain_name"), projectDomainID: get("project_domain_id"),
		}
		if p.username == "" || p.password == "" || (p.projectName == "" && p.projectID == "") {
			return nil, errors.New("[keystone_authtoken] username, password and project_name are required with auth_strategy = keystone")
		}
		if p.userDomainName == "" && p.userDomainID == "" {
			p.userDomainName = "Default"
		}
		if p.projectDomainName == "" && p.projectDomainID == "" {
			p.projectDomainName = "Default"
		}
		return p, nil
	case "v3applicationcredential":
		a := appCredentialAuth{
			id: get("application_credential_id"), name: get("application_credential_name"),
			secret:   opts["application_credential_secret"],
			username: get("username"), userID: get("user_id"),
			userDomainName: get("user_domain_name"), userDomainID: get("user_domain_id"),
		}
		if a.secret == "" || (a.id == "" && (a.name == "" || (a.username == "" && a.userID == ""))) {
			return nil, errors.New("[keystone_authtoken] auth_type = v3applicationcredential needs application_credential_secret and application_credential_id (or application_credential_name with username or user_id)")
		}
		if a.username != "" && a.userDomainName == "" && a.userDomainID == "" {
			a.userDomainName = "Default"
		}
		return a, nil
	default:
		return nil, fmt.Errorf("[keystone_authtoken] auth_type = %s is not supported (use password, v3password or v3applicationcredential)", t)
	}
}

func domainRef(id, name string) map[string]string {
	if id != "" {
		return map[string]string{"id": id}
	}
	return map[string]string{"name": name}
}

// request is the v3 password authentication body.
func (p passwordAuth) request() any {
	project := map[string]any{}
	if p.projectID != "" {
		project["id"] = p.projectID
	} else {
		project["name"] = p.projectName
		project["domain"] = domainRef(p.projectDomainID, p.projectDomainName)
	}
	return map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []string{"password"},
			"password": map[string]any{"user": map[string]any{
				"name":     p.username,
				"domain":   domainRef(p.userDomainID, p.userDomainName),
				"password": p.password,
			}},
		},
		"scope": map[string]any{"project": project},
	}}
}

// appCredentialAuth is a v3 application credential: by id, or by name
// with its user. Its scope is the credential's own, so the body has none.
type appCredentialAuth struct {
	id, name, secret                               string
	username, userID, userDomainName, userDomainID string
}

func (a appCredentialAuth) request() any {
	cred := map[string]any{"secret": a.secret}
	if a.id != "" {
		cred["id"] = a.id
	} else {
		cred["name"] = a.name
		if a.userID != "" {
			cred["user"] = map[string]any{"id": a.userID}
		} else {
			cred["user"] = map[string]any{"name": a.username, "domain": domainRef(a.userDomainID, a.userDomainName)}
		}
	}
	return map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods":                []string{"application_credential"},
			"application_credential": cred,
		},
	}}
}

// validationURL is where tokens are validated (ends in /v3).
func (k *Keystone) validationURL() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.validateURL != "" {
		return k.validateURL
	}
	return k.identityURL
}
