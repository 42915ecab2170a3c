package web

import (
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
)

// PostgreSQL cannot store a NUL byte in text (SQLSTATE 22021), so text that
// carries one is refused before it gets near a query; upstream answers such
// requests with a 500. These messages are API.
const (
	MsgNULInPath   = "The URL path must not contain NUL (0x00) characters."
	msgNULInHeader = "Header %s must not contain NUL (0x00) characters."
	MsgNULInBody   = "JSON does not validate: strings must not contain NUL (0x00) characters"
	// MsgSurrogateInBody answers a string with an unpaired \ud800-\udfff
	// escape, which Python keeps and PostgreSQL refuses (upstream: 500).
	MsgSurrogateInBody = "JSON does not validate: strings must not contain unpaired surrogates (\\ud800-\\udfff)"
	// MsgNonFiniteInBody answers NaN, Infinity or -Infinity where the
	// schema allows any number.
	MsgNonFiniteInBody = "JSON does not validate: NaN and infinite numbers are not accepted"
)

// CheckNUL returns a 400 *placement.Error when r's decoded path or a
// header value contains a NUL byte, and nil otherwise. The query string is
// not checked: upstream ignores parameters a request does not use,
// whatever they hold, and validates the others; the store finds a class or
// trait name with a NUL unknown, and answers 400 where PostgreSQL refuses
// one in other text (store.Classify).
func CheckNUL(r *http.Request) error {
	if strings.IndexByte(r.URL.Path, 0) >= 0 {
		return placement.E(placement.Invalid, MsgNULInPath)
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

// hasInvalidText reports whether a document of schema.DecodeJSON has a
// string or an object key that is not valid UTF-8.
func hasInvalidText(doc any) bool {
	return schema.AnyLeaf(doc, func(v any) bool {
		s, ok := v.(string)
		return ok && !utf8.ValidString(s)
	})
}

// hasNUL reports whether a document of schema.DecodeJSON has a NUL byte in a
// string or an object key.
func hasNUL(doc any) bool {
	return schema.AnyLeaf(doc, func(v any) bool {
		s, ok := v.(string)
		return ok && strings.IndexByte(s, 0) >= 0
	})
}
