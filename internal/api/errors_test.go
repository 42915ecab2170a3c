package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestAccept holds, for each Accept header, what upstream does with it
// (WebOb 1.8 behind placement's request log middleware): whether a JSON GET
// answers (check_accept), and the media type of an error page.
func TestAccept(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "acceptsJSON", func(h string) bool { return acceptOf(h).acceptsJSON() }, []testutil.Pair[string, bool]{
		{"", true},
		{"*/*", true},
		{"application/json", true},
		{"text/html", false},
		{"application/json, text/html", true},
		{"application/json, text/html;q=0.5", true},
		{"text/plain", false},
		{"application/xml", false},
		{"*/*;q=1", true},
		{"garbage", true},
		{";;", true},
		{"application/json;level=1", false},
		{"application/json;q=0, application/json", false},
		{"application/json, application/json;q=0", true},
		{"application/*", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/html,application/xml;q=0.9", false},
		{"application/json;q=0", false},
		{"application/json;q=0, */*", false},
		{"application/json;q=abc", true},
		{"application/json;q=0.0001", true},
		{"APPLICATION/JSON", true},
		{"text/*, application/*", true},
		{"application/json;level=1, */*;q=0.1", true},
		{"application/json; charset=\"utf\\\"8\"", false},
		{"*/*;level=2;q=0.5", true},
		{",,application/json", true},
		{"application/json ;q=0.5", true},
		{"application/json;Q=0", false},
		{"application/json;q=0.5;ext=\"x\xe9\"", true},
		{"text/html;q=1.0001", true},
		{"*/json", false},
		{"text/html;q=0.5, application/json;q=0.5", true},
		{"application/json;q=1.", true},
		{"application/json;q=0.", false},
		{"application/json;qa=1", false},
		{"application/json;q", true},
		{"application/json , text/html", true},
	})
	testutil.WantOutputs(t, "errorMediaType", func(h string) string { return acceptOf(h).errorMediaType() }, []testutil.Pair[string, string]{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"text/html", "text/html"},
		{"application/json, text/html", "text/html"},
		{"application/json, text/html;q=0.5", "application/json"},
		{"text/plain", "text/plain"},
		{"application/xml", "text/plain"},
		{"*/*;q=1", "text/html"},
		{"garbage", "text/html"},
		{";;", "text/html"},
		{"application/json;level=1", "text/plain"},
		{"application/json;q=0, application/json", "text/plain"},
		{"application/json, application/json;q=0", "application/json"},
		{"application/*", "application/json"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"},
		{"text/html,application/xml;q=0.9", "text/html"},
		{"application/json;q=0", "text/plain"},
		{"application/json;q=0, */*", "text/html"},
		{"application/json;q=abc", "text/html"},
		{"application/json;q=0.0001", "text/html"},
		{"APPLICATION/JSON", "application/json"},
		{"text/*, application/*", "text/html"},
		{"application/json;level=1, */*;q=0.1", "text/html"},
		{"application/json; charset=\"utf\\\"8\"", "text/plain"},
		{"*/*;level=2;q=0.5", "text/html"},
		{",,application/json", "application/json"},
		{"application/json ;q=0.5", "application/json"},
		{"application/json;Q=0", "text/plain"},
		{"application/json;q=0.5;ext=\"x\xe9\"", "application/json"},
		{"text/html;q=1.0001", "text/html"},
		{"*/json", "text/plain"},
		{"text/html;q=0.5, application/json;q=0.5", "text/html"},
		{"application/json;q=1.", "application/json"},
		{"application/json;q=0.", "text/plain"},
		{"application/json;qa=1", "text/plain"},
		{"application/json;q", "text/html"},
		{"application/json , text/html", "text/html"},
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

// TestClientGone: a request whose client closed the connection (its
// context cancelled) while the database was being asked is recorded as 499
// with no error body; a cancellation while the client is still there is
// an unexpected error.
func TestClientGone(t *testing.T) {
	t.Parallel()
	dbErr := fmt.Errorf("timeout: %w", context.Canceled)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		status int
	}{
		{"client gone", ctx, statusClientClosed},
		{"client still there", context.Background(), 500},
	} {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest("GET", "/resource_providers", nil).WithContext(tt.ctx), dbErr)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
		if empty := rec.Body.Len() == 0; empty != (tt.status == statusClientClosed) {
			t.Errorf("%s: body %q", tt.name, rec.Body)
		}
	}
}

// TestOutOfTime: a request whose own deadline passed while the database
// was being asked is a 503 that says so, rather than one that blames the
// database (what a timeout of a statement's own is).
func TestOutOfTime(t *testing.T) {
	t.Parallel()
	dbErr := fmt.Errorf("timeout: %w", context.DeadlineExceeded)
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"request out of time", ctx, msgOutOfTime},
		{"request in time", context.Background(), store.MsgDatabaseUnavailable},
	} {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest("GET", "/resource_providers", nil).WithContext(tt.ctx), dbErr)
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: %d %s, want 503 %q", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
}
