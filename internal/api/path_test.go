package api

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestRemoveDotSegments(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "removeDotSegments", removeDotSegments, []testutil.Pair[string, string]{
		{"/resource_providers", "/resource_providers"},
		{"/resource_providers/.", "/resource_providers/"},
		{"/resource_providers/./", "/resource_providers/"},
		{"/x/../resource_providers", "/resource_providers"},
		{"/../resource_providers", "/resource_providers"},
		{"/traits/..", "/"},
		{"/a/b/c/./../../g", "/a/g"}, // RFC 3986 §5.2.4's example
		{"/rp/u/./inventories", "/rp/u/inventories"},
		{"//resource_providers", "//resource_providers"},
		{"/traits/CUSTOM.X", "/traits/CUSTOM.X"},
		{"/traits/..x", "/traits/..x"},
		{"/resource_providers/%2E%2E/traits", "/resource_providers/%2E%2E/traits"},
		{"/", "/"},
	})
}
