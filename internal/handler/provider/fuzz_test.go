package provider

import (
	"net/http/httptest"
	"testing"

	"github.com/openstack-placement-go/placement/internal/gabbi"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/web"
)

// FuzzListQuery: no GET /resource_providers query string makes validation
// or filter parsing panic, and every refusal is a 400.
func FuzzListQuery(f *testing.F) {
	for _, s := range gabbi.MustSeeds(f, "../../../gabbits") {
		if s.Method == "GET" && s.Path == "/resource_providers" && s.RawQuery != "" {
			for _, minor := range []int{0, 14, 18, 22, 32, 39} {
				f.Add(s.RawQuery, minor)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw string, minor int) {
		v := microversion.V1(((minor % 40) + 40) % 40)
		r := httptest.NewRequest("GET", "/resource_providers", nil)
		r.URL.RawQuery = raw
		q, err := web.ValidateQuery(r, listSchema(v))
		if err == nil {
			_, err = parseFilter(v, q)
		}
		if err != nil && placement.KindOf(err) != placement.Invalid {
			t.Fatalf("query %q at %s: %v (kind %v), want a 400", raw, v, err, placement.KindOf(err))
		}
	})
}
