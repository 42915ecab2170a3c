package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPanicIsA500WithTheRequestID: a handler that panics (here, any that
// touches the missing store) answers 500 in the error format; its body
// names the request id the response carries, so that an operator can
// find the logged stack, and the access log has the request with its
// status.
func TestPanicIsA500WithTheRequestID(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := testAPI(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := serve(h, http.MethodGet, "/resource_providers", map[string]string{"X-Auth-Token": "admin"})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	id := rec.Header().Get("X-Openstack-Request-Id")
	var body struct {
		Errors []struct {
			Detail    string `json:"detail"`
			RequestID string `json:"request_id"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if e := body.Errors[0]; id == "" || e.RequestID != id || !strings.Contains(e.Detail, "see the service log for request "+id) {
		t.Errorf("response id %q, error %+v", id, e)
	}
	for _, want := range []string{`msg="Placement API unexpected error: `, "logger=placement.fault_wrap", "logger=placement.requestlog", "msg_args.status=500", "request_id=" + id} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
