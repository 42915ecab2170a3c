package microversion

import (
	"errors"
	"testing"

	"github.com/openstack-placement-go/placement/internal/gabbi"
)

// FuzzFromHeader: any OpenStack-API-Version value negotiates a supported
// version or fails with a ParseError (400) or an UnsupportedError (406).
func FuzzFromHeader(f *testing.F) {
	seen := map[string]bool{}
	for _, s := range gabbi.MustSeeds(f, "../../gabbits") {
		if h := s.Headers["openstack-api-version"]; !seen[h] {
			seen[h] = true
			f.Add(h, "")
		}
	}
	f.Add("compute 2.1, placement 1.9", "placement 1.2")
	f.Fuzz(func(t *testing.T, a, b string) {
		v, err := FromHeader([]string{a, b})
		var pe *ParseError
		var ue *UnsupportedError
		switch {
		case err == nil && !v.Supported():
			t.Fatalf("FromHeader(%q, %q) = %v: not a supported version", a, b, v)
		case err != nil && !errors.As(err, &pe) && !errors.As(err, &ue):
			t.Fatalf("FromHeader(%q, %q): %v, want a ParseError or UnsupportedError", a, b, err)
		}
	})
}
