// Package auth authenticates requests and puts the caller's Identity in the
// request context: NoAuth2 is upstream's development mode, Keystone
// validates tokens against Keystone v3 as keystonemiddleware does.
package auth

import (
	"context"
	"net/http"
	"strings"
)

// Identity is who is calling: the credentials policy checks look at.
type Identity struct {
	UserID          string
	UserDomainID    string
	ProjectID       string
	ProjectDomainID string
	Roles           []string
	SystemScope     string // "all" for a system-scoped token
	DomainID        string // set for a domain-scoped token
	// NotAdminProject is keystonemiddleware's X-Is-Admin-Project: False;
	// the default (false) means is_admin_project is True, as upstream.
	NotAdminProject bool

	// The service token's identity (X-Service-Token), when one was sent
	// and valid.
	ServiceUserID          string
	ServiceUserDomainID    string
	ServiceProjectID       string
	ServiceProjectDomainID string
	ServiceRoles           []string
}

// HasRole reports whether the identity has role, compared case-insensitively
// as oslo.policy does.
func (id Identity) HasRole(role string) bool {
	for _, r := range id.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// NewContext returns ctx carrying id. It also hands id to the Recorder of
// ctx, if any, so outer middleware (the access log) can see who called.
func NewContext(ctx context.Context, id Identity) context.Context {
	if rec, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		rec.id, rec.set = id, true
	}
	return context.WithValue(ctx, ctxKey{}, id)
}

type recorderKey struct{}

// Recorder receives the identity that authentication establishes further
// down the middleware chain.
type Recorder struct {
	id  Identity
	set bool
}

// WithRecorder returns ctx with a fresh Recorder.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	rec := &Recorder{}
	return context.WithValue(ctx, recorderKey{}, rec), rec
}

// Identity returns the recorded identity (zero if the request was not
// authenticated).
func (r *Recorder) Identity() Identity { return r.id }

// From returns the identity of the request behind ctx (zero if none).
func From(ctx context.Context) Identity {
	id, _ := ctx.Value(ctxKey{}).(Identity)
	return id
}

// NoAuth derives an identity from X-Auth-Token the way upstream's noauth2
// middleware does: the token is "user[:project]", the user "admin" gets the
// admin role unless X-Roles says otherwise. It reports false when the request
// carries no token at all.
func NoAuth(r *http.Request) (Identity, bool) {
	// Upstream checks for the header's presence: an empty token is a token.
	values, present := r.Header["X-Auth-Token"]
	if !present {
		return Identity{}, false
	}
	token := values[0]
	user, project, ok := strings.Cut(token, ":")
	if !ok {
		project = user
	}
	id := Identity{UserID: user, ProjectID: project}
	if roles, present := r.Header["X-Roles"]; present {
		for _, role := range strings.Split(strings.Join(roles, ","), ",") {
			if role = strings.TrimSpace(role); role != "" {
				id.Roles = append(id.Roles, role)
			}
		}
	} else if user == "admin" {
		id.Roles = []string{"admin"}
	}
	if scope := r.Header.Get("OpenStack-System-Scope"); scope != "" {
		id.SystemScope = scope
		id.ProjectID = ""
	}
	if p := r.Header.Get("X-Project-Id"); p != "" {
		id.ProjectID = p
	}
	return id, true
}
