package pycompat

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestStrip holds CPython 3.11's str.strip() for each input.
func TestStrip(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "Strip", Strip, []testutil.Pair[string, string]{
		{" a ", "a"},
		{"\x1c\x1d a\x1e\x1f", "a"},
		{"\u00a0\u0085a\u3000\u2029", "a"},
		{"\x1ba\x00", "\x1ba\x00"},
		{"\u200ba", "\u200ba"}, // zero width space is no whitespace
		{"", ""},
	})
}
