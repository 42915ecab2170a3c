package auth

import (
	"net/http/httptest"
	"slices"
	"testing"
)

func TestNoAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    Identity
		ok      bool
	}{
		{name: "no token is unauthenticated", headers: map[string]string{}, ok: false},
		{name: "admin gets the admin role", headers: map[string]string{"X-Auth-Token": "admin"},
			want: Identity{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}, ok: true},
		{name: "user and project split at the colon", headers: map[string]string{"X-Auth-Token": "alice:p1"},
			want: Identity{UserID: "alice", ProjectID: "p1"}, ok: true},
		{name: "X-Roles replaces the roles", headers: map[string]string{"X-Auth-Token": "admin", "X-Roles": "reader, service"},
			want: Identity{UserID: "admin", ProjectID: "admin", Roles: []string{"reader", "service"}}, ok: true},
		{name: "system scope clears the project", headers: map[string]string{"X-Auth-Token": "admin", "OpenStack-System-Scope": "all"},
			want: Identity{UserID: "admin", Roles: []string{"admin"}, SystemScope: "all"}, ok: true},
		{name: "an explicit project id wins", headers: map[string]string{"X-Auth-Token": "bob", "X-Project-Id": "p9"},
			want: Identity{UserID: "bob", ProjectID: "p9"}, ok: true},
		{name: "an empty token is still a token", headers: map[string]string{"X-Auth-Token": ""},
			want: Identity{}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/resource_providers", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, ok := NoAuth(r)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if got.UserID != tt.want.UserID || got.ProjectID != tt.want.ProjectID ||
				got.SystemScope != tt.want.SystemScope || !slices.Equal(got.Roles, tt.want.Roles) {
				t.Fatalf("identity = %+v, want %+v", got, tt.want)
			}
		})
	}
}
