package gabbits

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkCandidatesHTTP measures GET /allocation_candidates through an
// in-process server over 1000 flat providers (the placement-bench flat
// scenario, loaded through the API), for profiling.
func BenchmarkCandidatesHTTP(b *testing.B) {
	srv, c := benchServer(b)
	agg := uuid.NewString()
	for i := range 1000 {
		rp := c.computeNode(srv)
		c.must(srv, 200, "PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{
			"resource_provider_generation": 1, "aggregates": []string{agg}})
		if i%2 == 0 {
			c.must(srv, 200, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
				"resource_provider_generation": 2, "traits": []string{"HW_CPU_X86_AVX2"}})
		}
	}
	for _, q := range []string{"", "&limit=5"} {
		b.Run("limit="+q, func(b *testing.B) {
			url := srv.URL + "/allocation_candidates?resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&member_of=" + agg + "&required=HW_CPU_X86_AVX2" + q
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("x-auth-token", "admin")
				req.Header.Set("openstack-api-version", "placement 1.39")
				resp, err := c.c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// computeNode creates a provider with the inventory of placement-bench's
// flat compute node (VCPU 16, MEMORY_MB 32768, DISK_GB 1000) and returns
// its uuid; its generation is then 1.
func (c client) computeNode(srv *httptest.Server) string {
	rp := uuid.NewString()
	c.must(srv, 200, "POST", "/resource_providers", map[string]any{"name": rp, "uuid": rp})
	c.must(srv, 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories": map[string]any{
			"VCPU":      map[string]any{"total": 16},
			"MEMORY_MB": map[string]any{"total": 32768},
			"DISK_GB":   map[string]any{"total": 1000}}})
	return rp
}
