package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/openapi"
)

// TestOpenAPIDescribesTheRouteTable: the description has an operation for
// every method and pattern the route table serves at the latest
// microversion, and none that it does not serve.
func TestOpenAPIDescribesTheRouteTable(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	var described, served []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" && method != "summary" && method != "description" {
				described = append(described, strings.ToUpper(method)+" "+path)
			}
		}
	}
	for _, rt := range New(nil, Options{}).routes() {
		if rt.covers(microversion.Max) {
			served = append(served, rt.method+" "+rt.pattern)
		}
	}
	slices.Sort(described)
	slices.Sort(served)
	for _, op := range served {
		if !slices.Contains(described, op) {
			t.Errorf("%s is served at %s but not in the OpenAPI description", op, microversion.Max)
		}
	}
	for _, op := range described {
		if !slices.Contains(served, op) {
			t.Errorf("%s is in the OpenAPI description but not served at %s", op, microversion.Max)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	h := testAPI(Options{})
	rec := serve(h, "GET", "/openapi.json", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || !bytes.Equal(rec.Body.Bytes(), openapi.Document()) {
		t.Errorf("GET /openapi.json without a token = %d %q, want 200 and the description", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Error("the description is not valid JSON")
	}
	rec = serve(h, "POST", "/openapi.json", map[string]string{"X-Auth-Token": "admin"})
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET" {
		t.Errorf("POST /openapi.json = %d, Allow %q; want 405, GET", rec.Code, rec.Header().Get("Allow"))
	}
	rec = serve(h, "GET", "/openapi.json", map[string]string{"OpenStack-API-Version": "placement 1.40"})
	if rec.Code != 406 {
		t.Errorf("GET /openapi.json at 1.40 = %d, want 406 as for every path", rec.Code)
	}
	rec = serve(h, "GET", "/openapi.json/", map[string]string{"X-Auth-Token": "admin"})
	if rec.Code != 404 {
		t.Errorf("GET /openapi.json/ = %d, want 404", rec.Code)
	}
	rec = serve(h, "GET", "/openapi.yaml", nil)
	if rec.Code != 401 {
		t.Errorf("GET /openapi.yaml without a token = %d, want 401 like any other unknown path", rec.Code)
	}
}
