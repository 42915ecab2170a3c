package api

import (
	"net/http/httptest"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestErrorMediaType(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "errorMediaType", errorMediaType, []testutil.Pair[string, string]{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"text/html", "text/html"},
		{"application/json, text/html", "text/html"}, // WebOb offers HTML first on ties
		{"application/json, text/html;q=0.5", "application/json"},
		{"text/plain", "text/plain"},
		{"application/xml", "text/plain"},
	})
}

func TestAcceptsJSON(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "acceptsJSON", acceptsJSON, []testutil.Pair[string, bool]{
		{"", true},
		{"application/json", true},
		{"application/*", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/html,application/xml;q=0.9", false},
		{"application/json;q=0", false},
		{"application/json;q=0, */*", false}, // the most specific range decides
		{"text/plain", false},
	})
}

func TestDetailLayout(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("PATCH", "/x", nil)
	r.Header.Set("Accept", "text/plain")
	tests := []struct {
		status  int
		message string
		want    string
	}{
		{404, "", "The resource could not be found.\n\n   "},
		{409, "boom", "There was a conflict when trying to complete your request.\n\n boom  "},
		{400, "a\n\nb", "The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n a  b  "},
		{405, "no", "The method PATCH is not allowed for this resource. \n\n no"},
		{406, "Only application/json is provided", "The resource could not be generated that was acceptable to your browser (content of type text/plain. \n\n Only application/json is provided"},
		{415, "m", "The request media type None is not supported by this server. \n\n m"},
	}
	for _, tt := range tests {
		if got := detail(tt.status, r, tt.message); got != tt.want {
			t.Errorf("detail(%d, %q) = %q, want %q", tt.status, tt.message, got, tt.want)
		}
	}
}
