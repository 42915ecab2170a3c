package api

import "testing"

func TestRemoveDotSegments(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/resource_providers":               "/resource_providers",
		"/resource_providers/.":             "/resource_providers/",
		"/resource_providers/./":            "/resource_providers/",
		"/x/../resource_providers":          "/resource_providers",
		"/../resource_providers":            "/resource_providers",
		"/traits/..":                        "/",
		"/a/b/c/./../../g":                  "/a/g", // RFC 3986 §5.2.4's example
		"/rp/u/./inventories":               "/rp/u/inventories",
		"//resource_providers":              "//resource_providers",
		"/traits/CUSTOM.X":                  "/traits/CUSTOM.X",
		"/traits/..x":                       "/traits/..x",
		"/resource_providers/%2E%2E/traits": "/resource_providers/%2E%2E/traits",
		"/":                                 "/",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", in, got, want)
		}
	}
}
