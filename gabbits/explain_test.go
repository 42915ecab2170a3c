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

// TestExplainSnapshot_UnknownNames: an unknown class the real endpoint
// never reaches (an earlier group has no candidates) is explained, and
// one it reaches is its 400, alike from the cache and from the
// per-request loader (which loads nothing for the real endpoint then).
func TestExplainSnapshot_UnknownNames(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	rp := f.vcpuProvider(f.oracle, 8)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"resources1=VCPU:100&resources2=CUSTOM_NOPE:1&group_policy=none", 200},
		{"resources1=VCPU:100&resources2=CUSTOM_NOPE:1&group_policy=none&explain_provider=" + rp, 200},
		{"resources1=VCPU:1&resources2=CUSTOM_NOPE:1&group_policy=none", 400},
	} {
		path := "/diagnostics/allocation_candidates?" + tc.query
		want := f.must(f.oracle, tc.want, "GET", path, nil)
		if tc.want == 200 {
			last, _ := want["combined"].([]any)
			if len(last) == 0 || last[len(last)-1].(map[string]any)["candidates"] != 0.0 {
				t.Errorf("%s: the oracle's funnel does not end with no candidates: %v", tc.query, want)
			}
		}
		for _, srv := range f.cached {
			if st, got := f.call(srv, "1.39", "GET", path, nil); st != tc.want || (tc.want == 200 && !reflect.DeepEqual(got, want)) {
				t.Errorf("%s: cached server %d %v, oracle %v", tc.query, st, got, want)
			}
		}
	}
}
