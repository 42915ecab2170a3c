package gabbits

import "testing"

// TestShortCircuit_ResourcelessGroupFirst: an unknown class after a
// resourceless group (query order) is a 400 when some provider serves
// that group alone, and an empty 200 when none does, as upstream; the
// cached instances and the one that loads per request agree. The per
// request loader used to load no tree for the group alone (it names no
// class), and answered 200 where upstream answers 400.
func TestShortCircuit_ResourcelessGroupFirst(t *testing.T) {
	f := newFleet(t)
	rp := f.vcpuProvider(f.cached[0], 16)
	const query = "/allocation_candidates?required_NET=COMPUTE_STATUS_DISABLED&same_subtree=_NET&resources=CUSTOM_NOPE:1"
	for _, tc := range []struct {
		traits []string
		want   int
	}{
		{[]string{"COMPUTE_STATUS_DISABLED"}, 400},
		{[]string{}, 200},
	} {
		out := f.must(f.cached[0], 200, "GET", "/resource_providers/"+rp+"/traits", nil)
		f.must(f.cached[0], 200, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
			"resource_provider_generation": out["resource_provider_generation"], "traits": tc.traits})
		for _, srv := range append(f.cached, f.oracle) {
			if st, out := f.call(srv, "1.39", "GET", query, nil); st != tc.want {
				t.Errorf("traits %v: %s = %d %v, want %d", tc.traits, srv.URL, st, out, tc.want)
			}
		}
	}
}
