package api

import (
	"net/http/httptest"
	"testing"
)

// TestAccept holds, for each Accept header, what upstream does with it
// (WebOb 1.8 behind placement's request log middleware): whether a JSON GET
// answers (check_accept) and the media type of an error page.
func TestAccept(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		header    string
		json      bool
		errorType string
	}{
		{"", true, "application/json"},
		{"*/*", true, "application/json"},
		{"application/json", true, "application/json"},
		{"text/html", false, "text/html"},
		{"application/json, text/html", true, "text/html"},
		{"application/json, text/html;q=0.5", true, "application/json"},
		{"text/plain", false, "text/plain"},
		{"application/xml", false, "text/plain"},
		{"*/*;q=1", true, "text/html"},
		{"garbage", true, "text/html"},
		{";;", true, "text/html"},
		{"application/json;level=1", false, "text/plain"},
		{"application/json;q=0, application/json", false, "text/plain"},
		{"application/json, application/json;q=0", true, "application/json"},
		{"application/*", true, "application/json"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true, "text/html"},
		{"text/html,application/xml;q=0.9", false, "text/html"},
		{"application/json;q=0", false, "text/plain"},
		{"application/json;q=0, */*", false, "text/html"},
		{"application/json;q=abc", true, "text/html"},
		{"application/json;q=0.0001", true, "text/html"},
		{"APPLICATION/JSON", true, "application/json"},
		{"text/*, application/*", true, "text/html"},
		{"application/json;level=1, */*;q=0.1", true, "text/html"},
		{"application/json; charset=\"utf\\\"8\"", false, "text/plain"},
		{"*/*;level=2;q=0.5", true, "text/html"},
		{",,application/json", true, "application/json"},
		{"application/json ;q=0.5", true, "application/json"},
		{"application/json;Q=0", false, "text/plain"},
		{"application/json;q=0.5;ext=\"x\xe9\"", true, "application/json"},
		{"text/html;q=1.0001", true, "text/html"},
		{"*/json", false, "text/plain"},
		{"text/html;q=0.5, application/json;q=0.5", true, "text/html"},
		{"application/json;q=1.", true, "application/json"},
		{"application/json;q=0.", false, "text/plain"},
		{"application/json;qa=1", false, "text/plain"},
		{"application/json;q", true, "text/html"},
		{"application/json , text/html", true, "text/html"},
	} {
		a := acceptOf(tt.header)
		if got := a.acceptsJSON(); got != tt.json {
			t.Errorf("%q: acceptsJSON = %v, want %v", tt.header, got, tt.json)
		}
		if got := a.errorMediaType(); got != tt.errorType {
			t.Errorf("%q: errorMediaType = %q, want %q", tt.header, got, tt.errorType)
		}
	}
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
