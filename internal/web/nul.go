package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// PostgreSQL cannot store a NUL byte in text (SQLSTATE 22021), so text that
// carries one is refused before it gets near a query; upstream answers such
// requests with a 500. These messages are API.
const (
	MsgNULInPath   = "The URL path must not contain NUL (0x00) characters."
	msgNULInQuery  = "Invalid query string parameters: %s must not contain NUL (0x00) characters"
	msgNULInHeader = "Header %s must not contain NUL (0x00) characters."
	MsgNULInBody   = "JSON does not validate: strings must not contain NUL (0x00) characters"
)

// CheckNUL returns a 400 *placement.Error when r's decoded path, the name or
// value of a query parameter (percent-decoded) or a header value contains a
// NUL byte, and nil otherwise. Query parts that do not decode are left to
// the query validation.
func CheckNUL(r *http.Request) error {
	if strings.IndexByte(r.URL.Path, 0) >= 0 {
		return placement.E(placement.Invalid, MsgNULInPath)
	}
	if strings.Contains(r.URL.RawQuery, "%00") || strings.IndexByte(r.URL.RawQuery, 0) >= 0 {
		for _, p := range queryParts(r.URL.RawQuery) {
			if p.key == nil {
				continue
			}
			if strings.IndexByte(*p.key, 0) >= 0 || p.value != nil && strings.IndexByte(*p.value, 0) >= 0 {
				return placement.E(placement.Invalid, msgNULInQuery, pycompat.StrRepr(*p.key))
			}
		}
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names) // report the same header every time
	for _, name := range names {
		for _, v := range r.Header[name] {
			if strings.IndexByte(v, 0) >= 0 {
				return placement.E(placement.Invalid, msgNULInHeader, name)
			}
		}
	}
	return nil
}

// hasNUL reports whether a document of schema.DecodeJSON has a NUL byte in a
// string or an object key.
func hasNUL(doc any) bool {
	switch t := doc.(type) {
	case string:
		return strings.IndexByte(t, 0) >= 0
	case []any:
		for _, e := range t {
			if hasNUL(e) {
				return true
			}
		}
	case *pycompat.Object:
		for _, k := range t.Keys() {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(t.Get(k)) {
				return true
			}
		}
	}
	return false
}
