package auth

import (
	"net/http"
)

// Authenticator establishes who is calling. It either returns the identity
// (ok true) or has already written the rejection (401, or 503 when the
// identity service cannot be reached) in the format of the upstream
// middleware it replaces, which is not Placement's error format.
type Authenticator interface {
	Authenticate(w http.ResponseWriter, r *http.Request) (id Identity, ok bool)
}

// NoAuth2 is upstream's noauth2 development middleware: any X-Auth-Token is
// accepted, see NoAuth.
type NoAuth2 struct{}

// WebOb401 is WebOb's default JSON 401 body that upstream's noauth2 (and
// keystonemiddleware's user-less case) returns.
const WebOb401 = `{"message": "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.<br /><br />\n\n\n", "code": "401 Unauthorized", "title": "Unauthorized"}`

// Authenticate implements Authenticator.
func (NoAuth2) Authenticate(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	id, ok := NoAuth(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, WebOb401)
		return Identity{}, false
	}
	return id, true
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
