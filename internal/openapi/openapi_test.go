package openapi

import (
	"net/http"
	"strings"
	"testing"
)

const (
	rpUUID  = "4e8e5957-649f-477b-9e5b-f1f75b21c03c"
	reqID   = "req-7b2f3c1e-9a4d-4c5b-8e6f-0a1b2c3d4e5f"
	lastMod = "Wed, 02 Dec 2026 08:00:00 GMT"
)

func providerBody(extra string) string {
	links := `"links": [` +
		`{"rel": "self", "href": "/resource_providers/` + rpUUID + `"},` +
		`{"rel": "inventories", "href": "/resource_providers/` + rpUUID + `/inventories"},` +
		`{"rel": "usages", "href": "/resource_providers/` + rpUUID + `/usages"},` +
		`{"rel": "aggregates", "href": "/resource_providers/` + rpUUID + `/aggregates"},` +
		`{"rel": "traits", "href": "/resource_providers/` + rpUUID + `/traits"},` +
		`{"rel": "allocations", "href": "/resource_providers/` + rpUUID + `/allocations"}]`
	return `{"uuid": "` + rpUUID + `", "name": "rp1", "generation": 0, "parent_provider_uuid": null,` +
		` "root_provider_uuid": "` + rpUUID + `", ` + links + extra + `}`
}

func okHeaders(ct string) http.Header {
	h := http.Header{}
	h.Set("OpenStack-API-Version", "placement 1.39")
	h.Set("Vary", "openstack-api-version")
	h.Set("X-Openstack-Request-Id", reqID)
	h.Set("Cache-Control", "no-cache")
	h.Set("Last-Modified", lastMod)
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

func errorHeaders() http.Header {
	h := http.Header{}
	h.Set("X-Openstack-Request-Id", reqID)
	h.Set("Content-Type", "application/json")
	return h
}

const notFoundBody = `{"errors": [{"status": 404, "title": "Not Found", "detail": "The resource could not be found.\n\n   ", "code": "placement.undefined_code", "request_id": "` + reqID + `"}]}`

func TestValidate(t *testing.T) {
	t.Parallel()
	v, err := NewValidator()
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	without := func(h http.Header, name string) http.Header {
		h.Del(name)
		return h
	}
	cases := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		wantErr string // "" means valid
	}{
		{name: "a provider as described is valid",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("application/json"), body: providerBody("")},
		{name: "an undescribed property fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("application/json"), body: providerBody(`, "extra": 1`),
			wantErr: "additionalProperties 'extra' not allowed"},
		{name: "a missing required property fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("application/json"),
			body:    strings.Replace(providerBody(""), `"generation": 0, `, "", 1),
			wantErr: "missing properties: 'generation'"},
		{name: "a property of the wrong type fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("application/json"),
			body:    strings.Replace(providerBody(""), `"generation": 0`, `"generation": "0"`, 1),
			wantErr: "expected integer, but got string"},
		{name: "a malformed UUID fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("application/json"),
			body:    strings.Replace(providerBody(""), `"root_provider_uuid": "`+rpUUID, `"root_provider_uuid": "nope`, 1),
			wantErr: "is not valid 'uuid'"},
		{name: "a missing required header fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: without(okHeaders("application/json"), "Openstack-Api-Version"), body: providerBody(""),
			wantErr: "header openstack-api-version is missing"},
		{name: "a header that does not match its schema fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: func() http.Header {
				h := okHeaders("application/json")
				h.Set("Cache-Control", "max-age=60")
				return h
			}(), body: providerBody(""),
			wantErr: "header cache-control"},
		{name: "an undescribed media type fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 200, header: okHeaders("text/plain"), body: "rp1",
			wantErr: "Content-Type text/plain is not one the description lists"},
		{name: "an undescribed status fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 409, header: errorHeaders(), body: notFoundBody,
			wantErr: "a status the description does not list for GET /resource_providers/{uuid}"},
		{name: "a body on a response described without one fails",
			method: "DELETE", path: "/resource_providers/" + rpUUID, status: 204, header: okHeaders("application/json"), body: "{}",
			wantErr: "no body is described"},
		{name: "a 204 without a body is valid",
			method: "DELETE", path: "/resource_providers/" + rpUUID, status: 204, header: okHeaders("")},
		{name: "an error in the error format is valid",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 404, header: errorHeaders(), body: notFoundBody},
		{name: "an error with an extra member fails",
			method: "GET", path: "/resource_providers/" + rpUUID, status: 404, header: errorHeaders(),
			body:    strings.Replace(notFoundBody, `"status": 404`, `"status": 404, "message": "x"`, 1),
			wantErr: "additionalProperties 'message' not allowed"},
		{name: "an undescribed path may answer 404",
			method: "GET", path: "/resource_providers/", status: 404, header: errorHeaders(), body: notFoundBody},
		{name: "an undescribed path answering anything else fails",
			method: "GET", path: "/widgets", status: 200, header: okHeaders("application/json"), body: "{}",
			wantErr: "no path of the description matches /widgets"},
		{name: "an undescribed method may answer 405",
			method: "PATCH", path: "/resource_providers", status: 405, header: errorHeaders(),
			body: `{"errors": [{"status": 405, "title": "Method Not Allowed", "detail": "The method PATCH is not allowed for this resource. \n\n ", "code": "placement.undefined_code", "request_id": "` + reqID + `"}]}`},
		{name: "an undescribed method answering anything else fails",
			method: "PATCH", path: "/resource_providers", status: 200, header: okHeaders("application/json"), body: "{}",
			wantErr: "no PATCH operation for /resource_providers"},
		{name: "a literal segment wins over a parameter",
			method: "GET", path: "/", status: 200, header: okHeaders("application/json"),
			body: `{"versions": [{"id": "v1.0", "max_version": "1.39", "min_version": "1.0", "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]}`},
		{name: "the version document must name 1.39",
			method: "GET", path: "/", status: 200, header: okHeaders("application/json"),
			body:    `{"versions": [{"id": "v1.0", "max_version": "1.40", "min_version": "1.0", "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]}`,
			wantErr: "max_version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Validate(tc.method, tc.path, tc.status, tc.header, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("Validate accepted it, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("Validate: %v\nwant it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewValidator_RejectsBrokenDescriptions(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not JSON":                       `{`,
		"a dangling $ref":                `{"paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}`,
		"an operation without responses": `{"paths": {"/x": {"get": {}}}}`,
		"an invalid schema":              `{"paths": {"/x": {"get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": 5}}}}}}}}, "components": {"responses": {"NotFound": {}, "MethodNotAllowed": {}}}}`,
	} {
		if _, err := newValidator([]byte(doc)); err == nil {
			t.Errorf("%s: newValidator accepted it", name)
		}
	}
}
