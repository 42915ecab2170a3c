package gabbits

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// TestExplainSnapshot_WithAndWithoutCache: the diagnostics endpoint
// explains a provider that no candidate query would load (no inventory of
// the requested class) the same way from the candidate cache and from the
// per-request loader.
func TestExplainSnapshot_WithAndWithoutCache(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.vcpuProvider(f.oracle, 8)
	disk := uuid.NewString()
	f.must(f.oracle, 200, "POST", "/resource_providers", map[string]any{"name": "disk-only", "uuid": disk})
	f.must(f.oracle, 200, "PUT", "/resource_providers/"+disk+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"DISK_GB": map[string]any{"total": 100}},
	})
	path := "/diagnostics/allocation_candidates?resources=VCPU:1&explain_provider=disk-only"
	want := f.must(f.oracle, 200, "GET", path, nil)
	p, _ := want["provider"].(map[string]any)
	if p["uuid"] != disk || p["step"] != "inventory of VCPU" || p["reason"] != "no inventory of VCPU" {
		t.Fatalf("oracle explains %v", p)
	}
	for _, srv := range f.cached {
		if got := f.must(srv, 200, "GET", path, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("cached server explains %v, oracle %v", got, want)
		}
	}
}
