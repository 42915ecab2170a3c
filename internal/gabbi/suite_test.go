package gabbi

import (
	"reflect"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func mustParse(t *testing.T, doc string) *Suite {
	t.Helper()
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParse_FullTest(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `
fixtures:
  - APIFixture
tests:
- name: create a thing
  desc: a description
  POST: /things
  request_headers:
    content-type: application/json
    x-count: 3
  query_parameters:
    a: 1
    b: [x, y]
  data:
    name: thing
  status: 201
  response_headers:
    location: /things/
  response_forbidden_headers:
    - x-secret
  response_strings:
    - thing
  response_json_paths:
    $.name: thing
    $.count: 2
  xfail: true
  poll:
    count: 3
    delay: .5
  redirects: true
  use_prior_test: false
  verbose: true
`)
	if !reflect.DeepEqual(s.Fixtures, []string{"APIFixture"}) {
		t.Errorf("Fixtures = %v", s.Fixtures)
	}
	if len(s.Tests) != 1 {
		t.Fatalf("got %d tests", len(s.Tests))
	}
	tc := s.Tests[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"name", tc.Name, "create a thing"},
		{"method", tc.Method, "POST"},
		{"url", tc.URL, "/things"},
		{"headers", tc.RequestHeaders, []Header{{"content-type", "application/json"}, {"x-count", "3"}}},
		{"status", tc.Status, []int{201}},
		{"response headers", tc.ResponseHeaders, []Header{{"location", "/things/"}}},
		{"forbidden", tc.ResponseForbiddenHeaders, []string{"x-secret"}},
		{"strings", tc.ResponseStrings, []string{"thing"}},
		{"xfail", tc.XFail, true},
		{"redirects", tc.Redirects, true},
		{"poll", tc.Poll, Poll{Count: 3, Delay: 500 * time.Millisecond}},
		{"json path count", len(tc.ResponseJSONPaths), 2},
		{"json path order", tc.ResponseJSONPaths[0].Path, "$.name"},
		{"query names", []string{tc.QueryParameters[0].Name, tc.QueryParameters[1].Name}, []string{"a", "b"}},
		{"query values", len(tc.QueryParameters[1].Values), 2},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
	if !pycompat.Equal(tc.Data, mustDecode(t, `{"name": "thing"}`)) {
		t.Errorf("data = %s", show(tc.Data))
	}
}

func TestParse_Defaults(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `
defaults:
  request_headers:
    x-auth-token: admin
    OpenStack-API-Version: placement 1.0
    accept: application/json
  response_strings: [from-defaults]
  status: 204
  data: {a: 1}
  verbose: true
tests:
- name: test overrides a header case-insensitively
  GET: /
  request_headers:
    openstack-api-version: placement latest
    accept: null
  response_strings: [from-test]
  data: {b: 2}
- name: test takes the defaults
  url: /x
  method: DELETE
`)
	first, second := s.Tests[0], s.Tests[1]
	wantHeaders := []Header{{"x-auth-token", "admin"}, {"openstack-api-version", "placement latest"}}
	if !reflect.DeepEqual(first.RequestHeaders, wantHeaders) {
		t.Errorf("merged headers = %#v, want %#v", first.RequestHeaders, wantHeaders)
	}
	if !reflect.DeepEqual(first.ResponseStrings, []string{"from-defaults", "from-test"}) {
		t.Errorf("lists should concatenate, got %v", first.ResponseStrings)
	}
	if !pycompat.Equal(first.Data, mustDecode(t, `{"b": 2}`)) {
		t.Errorf("data should be replaced, got %s", show(first.Data))
	}
	if !reflect.DeepEqual(first.Status, []int{204}) || first.Method != "GET" {
		t.Errorf("status/method = %v %s", first.Status, first.Method)
	}
	if second.Method != "DELETE" || second.URL != "/x" || len(second.RequestHeaders) != 3 {
		t.Errorf("second test = %s %s %v", second.Method, second.URL, second.RequestHeaders)
	}
}

func TestParse_AnchorsAndMergeKeys(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `
tests:
- name: first
  GET: /a
  request_headers: &hdrs
    x-auth-token: admin
    accept: application/json
  response_json_paths: &paths
    $.a: 1
- name: second
  GET: /b
  request_headers:
    <<: *hdrs
    accept: text/plain
  response_json_paths: *paths
`)
	want := []Header{{"x-auth-token", "admin"}, {"accept", "text/plain"}}
	if !reflect.DeepEqual(s.Tests[1].RequestHeaders, want) {
		t.Errorf("merged headers = %#v, want %#v", s.Tests[1].RequestHeaders, want)
	}
	if len(s.Tests[1].ResponseJSONPaths) != 1 || s.Tests[1].ResponseJSONPaths[0].Path != "$.a" {
		t.Errorf("aliased json paths = %#v", s.Tests[1].ResponseJSONPaths)
	}
}

func TestParse_Status(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status string
		want   []int
	}{
		{"an integer is one status", "404", []int{404}},
		{"a string with || is several", `"200 || 204"`, []int{200, 204}},
		{"spacing around || does not matter", `"409||400"`, []int{409, 400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, "tests:\n- name: x\n  GET: /\n  status: "+tc.status+"\n")
			if !reflect.DeepEqual(s.Tests[0].Status, tc.want) {
				t.Errorf("status = %v, want %v", s.Tests[0].Status, tc.want)
			}
		})
	}
}

func TestParse_Skip(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `
tests:
- {name: reason, GET: /, skip: not today}
- {name: bool, GET: /, skip: true}
- {name: false, GET: /, skip: false}
`)
	if s.Tests[0].Skip != "not today" || s.Tests[1].Skip == "" || s.Tests[2].Skip != "" {
		t.Errorf("skips = %q %q %q", s.Tests[0].Skip, s.Tests[1].Skip, s.Tests[2].Skip)
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	testutil.WantErrors(t, func(t *testing.T, doc string) error {
		_, err := Parse([]byte(doc))
		return err
	}, []testutil.ErrorCase{
		{"an unknown test key is unsupported", "tests:\n- name: x\n  GET: /\n  cert_validate: false\n", `unsupported gabbi key "cert_validate"`},
		{"an unknown defaults key is unsupported", "defaults:\n  response_html: {}\ntests:\n- name: x\n  GET: /\n", `unsupported gabbi key "response_html"`},
		{"an unknown top-level key is unsupported", "common: 1\ntests:\n- name: x\n  GET: /\n", `unsupported gabbi key "common"`},
		{"an unknown poll key is unsupported", "tests:\n- name: x\n  GET: /\n  poll: {count: 2, backoff: 1}\n", `unsupported gabbi key "poll.backoff"`},
		{"a data file include is unsupported", "tests:\n- name: x\n  POST: /\n  data: <@data.json\n", "unsupported gabbi feature: file include"},
		{"a json path file include is unsupported", "tests:\n- name: x\n  GET: /\n  response_json_paths:\n    $.a: <@data.json\n", "unsupported gabbi feature: file include"},
		{"a test needs a name", "tests:\n- GET: /\n", "test name missing"},
		{"a test needs a url", "tests:\n- name: x\n", "test url missing"},
		{"two method shortcuts conflict", "tests:\n- name: x\n  GET: /\n  POST: /\n", "duplicate method/URL directive"},
		{"a bad status is an error", "tests:\n- name: x\n  GET: /\n  status: two hundred\n", "invalid status"},
		{"a file needs tests", "fixtures: [A]\n", "no tests key"},
		{"tests must be a list", "tests: {}\n", "tests must be a list"},
		{"invalid YAML is an error", "tests: [\n", "parsing YAML"},
		{"errors name the test", "tests:\n- name: my test\n  GET: /\n  bogus: 1\n", "test 1 (my test)"},
	})
}
