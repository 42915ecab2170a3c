package gabbi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// newTestServer serves the endpoints the runner tests use, under prefix.
func newTestServer(t *testing.T, prefix string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	counter := 0
	writeJSON := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers := map[string]string{}
		for k, v := range r.Header {
			headers[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		_, hasCT := r.Header["Content-Type"]
		out, _ := json.Marshal(map[string]any{
			"method":           r.Method,
			"path":             r.URL.Path,
			"query":            r.URL.RawQuery,
			"body":             string(body),
			"headers":          headers,
			"has_content_type": hasCT,
		})
		w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(len(body)))
		writeJSON(w, http.StatusOK, string(out))
	})
	mux.HandleFunc(prefix+"/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("POST "+prefix+"/things", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", prefix+"/things/abc")
		writeJSON(w, http.StatusCreated, `{"id": "abc", "n": 5, "ratio": 1.5, "flag": true,
			"tags": ["x", "y"], "meta": {"k": "v"}, "keys": {"abc": {"size": 7}}}`)
	})
	mux.HandleFunc("GET "+prefix+"/things/abc", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"id": "abc", "n": 6}`)
	})
	mux.HandleFunc(prefix+"/headers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("X-Request-Id", "req-1234")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello world")
	})
	mux.HandleFunc(prefix+"/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix+"/echo/redirected", http.StatusFound)
	})
	mux.HandleFunc(prefix+"/counter", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counter++
		n := counter
		mu.Unlock()
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"count": %d}`, n))
	})
	mux.HandleFunc(prefix+"/badjson", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{bad`)
	})
	mux.HandleFunc(prefix+"/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, strings.Repeat("x", 3000)+"TAIL")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runDoc parses doc and runs it the way RunFile does, returning each test's
// outcome instead of reporting to a *testing.T.
func runDoc(t *testing.T, doc string, opts Options) []outcome {
	t.Helper()
	suite, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	r, err := newRunner("test.yaml", suite, opts)
	if err != nil {
		t.Fatalf("newRunner: %v", err)
	}
	if err := r.setup(t); err != nil {
		t.Fatalf("setup: %v", err)
	}
	outs := make([]outcome, len(suite.Tests))
	for i := range suite.Tests {
		outs[i] = r.step(t.Context(), i)
	}
	return outs
}

func kinds(outs []outcome) string {
	names := map[outcomeKind]string{outcomePass: "pass", outcomeFail: "fail", outcomeSkip: "skip", outcomeXFail: "xfail"}
	parts := make([]string, len(outs))
	for i, o := range outs {
		parts[i] = names[o.kind]
	}
	return strings.Join(parts, ",")
}

func firstError(outs []outcome) string {
	for _, o := range outs {
		if o.err != nil {
			return o.err.Error()
		}
	}
	return ""
}

type runCase struct {
	name    string
	doc     string
	env     map[string]string
	want    string // comma-separated outcomes
	wantErr string // substring of the first failure, when one is expected
}

func checkRunCases(t *testing.T, prefix string, cases []runCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, prefix)
			outs := runDoc(t, tc.doc, Options{BaseURL: srv.URL + prefix, Env: tc.env})
			if got := kinds(outs); got != tc.want {
				t.Fatalf("outcomes = %s, want %s\nfirst error: %s", got, tc.want, firstError(outs))
			}
			if tc.wantErr != "" && !strings.Contains(firstError(outs), tc.wantErr) {
				t.Errorf("error = %q\nwant it to contain %q", firstError(outs), tc.wantErr)
			}
		})
	}
}

func TestRunner_Assertions(t *testing.T) {
	t.Parallel()
	checkRunCases(t, "", []runCase{
		{
			name: "status with || accepts either code",
			doc:  "tests:\n- name: t\n  GET: /status/204\n  status: 200 || 204\n",
			want: "pass",
		},
		{
			name:    "a wrong status fails naming expected and got",
			doc:     "tests:\n- name: t\n  GET: /status/404\n",
			want:    "fail",
			wantErr: "expected status 200, got 404",
		},
		{
			name: "response headers compare exactly and case-insensitively",
			doc: `tests:
- name: t
  GET: /headers
  response_headers:
    X-REQUEST-ID: req-1234
    content-type: text/plain
    x-multi: a, b
`,
			want: "pass",
		},
		{
			name: "response headers match /regex/",
			doc:  "tests:\n- name: t\n  GET: /headers\n  response_headers:\n    x-request-id: /^req-\\d+$/\n",
			want: "pass",
		},
		{
			name:    "a response header mismatch fails",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_headers:\n    x-request-id: nope\n",
			want:    "fail",
			wantErr: `expected header x-request-id to be "nope", got "req-1234"`,
		},
		{
			name:    "a response header regex mismatch fails",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_headers:\n    x-request-id: /^id-/\n",
			want:    "fail",
			wantErr: "to match /^id-/",
		},
		{
			name:    "a missing response header fails",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_headers:\n    location: /x\n",
			want:    "fail",
			wantErr: "header location not present in response",
		},
		{
			name:    "a forbidden header that is present fails",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_forbidden_headers: [x-request-id]\n",
			want:    "fail",
			wantErr: "forbidden header x-request-id present",
		},
		{
			name: "a forbidden header that is absent passes",
			doc:  "tests:\n- name: t\n  GET: /headers\n  response_forbidden_headers: [location, Last-Modified]\n",
			want: "pass",
		},
		{
			name: "response strings are substrings of the body",
			doc:  "tests:\n- name: t\n  GET: /headers\n  response_strings: [hello, lo wo]\n",
			want: "pass",
		},
		{
			name:    "a missing response string fails",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_strings: [goodbye]\n",
			want:    "fail",
			wantErr: `response body does not contain "goodbye"`,
		},
		{
			name: "json paths compare deeply and numbers by value",
			doc: `tests:
- name: t
  POST: /things
  status: 201
  response_json_paths:
    $.n: 5.0
    $.ratio: 1.5
    $.flag: true
    $.tags: [x, y]
    $.meta: {k: v}
    $.tags.` + "`len`" + `: 2
`,
			want: "pass",
		},
		{
			name: "json paths match /regex/ against the Python str of the value",
			doc: `tests:
- name: t
  POST: /things
  status: 201
  response_json_paths:
    $.id: /^ab/
    $.n: /^5$/
    $.flag: /^True$/
    $.tags: /'x', 'y'/
`,
			want: "pass",
		},
		{
			name:    "a json path mismatch fails with expected and got",
			doc:     "tests:\n- name: t\n  POST: /things\n  status: 201\n  response_json_paths:\n    $.n: 6\n",
			want:    "fail",
			wantErr: "JSONPath $.n: expected 6, got 5",
		},
		{
			name:    "a string never equals a number in json paths",
			doc:     "tests:\n- name: t\n  POST: /things\n  status: 201\n  response_json_paths:\n    $.n: '5'\n",
			want:    "fail",
			wantErr: `expected "5", got 5`,
		},
		{
			name:    "a json path that matches nothing fails",
			doc:     "tests:\n- name: t\n  POST: /things\n  status: 201\n  response_json_paths:\n    $.missing: 1\n",
			want:    "fail",
			wantErr: "JSONPath $.missing matched nothing",
		},
		{
			name:    "json paths on a non-JSON response fail",
			doc:     "tests:\n- name: t\n  GET: /headers\n  response_json_paths:\n    $.a: 1\n",
			want:    "fail",
			wantErr: `no JSON response body: Content-Type is "text/plain"`,
		},
		{
			name:    "a JSON content type with a malformed body fails",
			doc:     "tests:\n- name: t\n  GET: /badjson\n",
			want:    "fail",
			wantErr: "response body is not valid JSON",
		},
		{
			name:    "an unsupported JSONPath fails the test",
			doc:     "tests:\n- name: t\n  POST: /things\n  status: 201\n  response_json_paths:\n    $.id.`parent`: 1\n",
			want:    "fail",
			wantErr: "unsupported JSONPath syntax",
		},
	})
}

func TestRunner_Flow(t *testing.T) {
	t.Parallel()
	checkRunCases(t, "", []runCase{
		{
			name: "a failing xfail test passes with a note and the file goes on",
			doc:  "tests:\n- name: a\n  GET: /status/500\n  xfail: true\n- name: b\n  GET: /status/200\n",
			want: "xfail,pass",
		},
		{
			name:    "a passing xfail test is an unexpected success",
			doc:     "tests:\n- name: a\n  GET: /status/200\n  xfail: true\n",
			want:    "fail",
			wantErr: "unexpected success",
		},
		{
			name: "skip skips one test and the file goes on",
			doc:  "tests:\n- name: a\n  GET: /status/500\n  skip: broken upstream\n- name: b\n  GET: /status/200\n",
			want: "skip,pass",
		},
		{
			name:    "the first failure stops the file",
			doc:     "tests:\n- name: a\n  GET: /status/200\n- name: b\n  GET: /status/500\n- name: c\n  GET: /status/200\n- name: d\n  GET: /status/200\n",
			want:    "pass,fail,skip,skip",
			wantErr: "expected status 200, got 500",
		},
		{
			name: "poll retries until the assertions pass",
			doc:  "tests:\n- name: a\n  GET: /counter\n  poll: {count: 5, delay: 0.001}\n  response_json_paths:\n    $.count: 3\n",
			want: "pass",
		},
		{
			name:    "poll gives up after count attempts",
			doc:     "tests:\n- name: a\n  GET: /counter\n  poll: {count: 2, delay: 0.001}\n  response_json_paths:\n    $.count: 3\n",
			want:    "fail",
			wantErr: "expected 3, got 2",
		},
		{
			name: "redirects are not followed by default",
			doc:  "tests:\n- name: a\n  GET: /redirect\n  status: 302\n  response_headers:\n    location: /echo/redirected\n",
			want: "pass",
		},
		{
			name: "redirects: true follows them",
			doc:  "tests:\n- name: a\n  GET: /redirect\n  redirects: true\n  response_json_paths:\n    $.path: /echo/redirected\n",
			want: "pass",
		},
		{
			name: "use_prior_test and verbose are accepted",
			doc:  "tests:\n- name: a\n  GET: /status/200\n  use_prior_test: false\n  verbose: true\n",
			want: "pass",
		},
	})
}

func TestRunner_Requests(t *testing.T) {
	t.Parallel()
	checkRunCases(t, "", []runCase{
		{
			name: "query parameters are encoded, repeated for lists and appended to an existing query",
			doc: `tests:
- name: a
  GET: /echo/q?x=1
  query_parameters:
    a: b c
    list: [1, 2]
    flag: true
    uuid: "$ENVIRON['U']"
  response_json_paths:
    $.query: x=1&a=b+c&list=1&list=2&flag=True&uuid=u%2F1
`,
			env:  map[string]string{"U": "u/1"},
			want: "pass",
		},
		{
			name: "mapping data is JSON-encoded and no content type is added",
			doc: `tests:
- name: a
  POST: /echo/d
  data:
    a: 1
    b: [true, null, 1.5]
  response_json_paths:
    $.body: '{"a":1,"b":[true,null,1.5]}'
    $.has_content_type: false
    $.method: POST
`,
			want: "pass",
		},
		{
			name: "list data is JSON-encoded",
			doc:  "tests:\n- name: a\n  PUT: /echo/d\n  data: [1, two]\n  response_json_paths:\n    $.body: '[1,\"two\"]'\n",
			want: "pass",
		},
		{
			name: "string data is sent as is with the given content type",
			doc: `tests:
- name: a
  POST: /echo/d
  request_headers:
    content-type: text/plain
  data: '{"raw": true, "x": "$ENVIRON[''X'']"}'
  response_json_paths:
    $.body: '{"raw": true, "x": "5"}'
    $.headers["content-type"]: text/plain
`,
			env:  map[string]string{"X": "5"},
			want: "pass",
		},
		{
			name: "a null request header drops a default one",
			doc: `defaults:
  request_headers:
    x-auth-token: admin
    content-type: application/json
tests:
- name: a
  POST: /echo/d
  request_headers:
    content-type: null
  data: {}
  response_json_paths:
    $.has_content_type: false
    $.headers.x-auth-token: admin
`,
			want: "pass",
		},
		{
			name: "HEAD requests have no body",
			doc:  "tests:\n- name: a\n  HEAD: /echo/h\n  response_headers:\n    content-type: application/json\n",
			want: "pass",
		},
		{
			name: "method and url keys work without a shortcut and the method is upper-cased",
			doc:  "tests:\n- name: a\n  url: /echo/m\n  method: delete\n  response_json_paths:\n    $.method: DELETE\n",
			want: "pass",
		},
		{
			name: "bytes that are invalid in a URL are percent-encoded",
			doc:  "tests:\n- name: a\n  GET: /echo/a b?x=\u00e9 y&z=%41\n  response_json_paths:\n    $.path: /echo/a b\n    $.query: x=%C3%A9%20y&z=%41\n",
			want: "pass",
		},
		{
			name: "a relative url may carry :// in its query",
			doc:  "tests:\n- name: a\n  GET: /echo/m?next=http://x\n  response_json_paths:\n    $.query: next=http://x\n",
			want: "pass",
		},
		{
			name: "an absolute url is used as is",
			doc:  "tests:\n- name: a\n  GET: $SCHEME://$NETLOC/echo/abs\n  response_json_paths:\n    $.path: /echo/abs\n",
			want: "pass",
		},
		{
			name:    "a url with another scheme fails",
			doc:     "tests:\n- name: a\n  GET: ftp://example.com/x\n",
			want:    "fail",
			wantErr: "only http and https are supported",
		},
		{
			name:    "$COOKIE is an explicit error",
			doc:     "tests:\n- name: a\n  GET: /echo/c\n- name: b\n  GET: /echo/c\n  request_headers:\n    cookie: $COOKIE\n",
			want:    "pass,fail",
			wantErr: "unsupported gabbi substitution $COOKIE",
		},
	})
}

func TestRunner_BaseURLPrefix(t *testing.T) {
	t.Parallel()
	checkRunCases(t, "/placement", []runCase{
		{
			name: "relative urls keep the base path prefix",
			doc:  "tests:\n- name: a\n  GET: /echo/x\n  response_json_paths:\n    $.path: /placement/echo/x\n",
			want: "pass",
		},
		{
			name: "a url that already has the prefix is not prefixed twice",
			doc: `tests:
- name: a
  POST: /things
  status: 201
- name: b
  GET: $LOCATION
  response_json_paths:
    $.id: abc
`,
			want: "pass,pass",
		},
	})
}

func TestRunner_FailureMessage(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, "")
	outs := runDoc(t, "tests:\n- name: the big one\n  GET: /big\n", Options{BaseURL: srv.URL})
	if kinds(outs) != "fail" {
		t.Fatalf("outcomes = %s", kinds(outs))
	}
	msg := outs[0].err.Error()
	for _, want := range []string{
		"test.yaml",
		`test "the big one"`,
		"GET " + srv.URL + "/big",
		"expected status 200, got 500",
		"response status 500",
		strings.Repeat("x", 2000),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%.300s", want, msg)
		}
	}
	if strings.Contains(msg, strings.Repeat("x", 2001)) || strings.Contains(msg, "TAIL") {
		t.Errorf("message includes more than 2000 bytes of body")
	}
	var te *testError
	if !errors.As(outs[0].err, &te) {
		t.Errorf("error is %T, want *testError", outs[0].err)
	}
}

func TestRunner_Fixtures(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, "")
	var gotBase string
	fixtures := map[string]Fixture{
		"EnvFixture": func(_ testing.TB, baseURL string, env map[string]string) error {
			gotBase = baseURL
			env["FROM_FIXTURE"] = "fixture-value"
			return nil
		},
		"Broken": func(testing.TB, string, map[string]string) error {
			return errors.New("no database")
		},
	}
	initial := map[string]string{"INITIAL": "initial-value"}
	doc := `fixtures: [EnvFixture]
tests:
- name: a
  GET: /echo/$ENVIRON['FROM_FIXTURE']/$ENVIRON['INITIAL']
  response_json_paths:
    $.path: /echo/fixture-value/initial-value
`
	outs := runDoc(t, doc, Options{BaseURL: srv.URL, Env: initial, Fixtures: fixtures})
	if kinds(outs) != "pass" {
		t.Fatalf("outcomes = %s: %s", kinds(outs), firstError(outs))
	}
	if gotBase != srv.URL {
		t.Errorf("fixture got base URL %q, want %q", gotBase, srv.URL)
	}
	if _, ok := initial["FROM_FIXTURE"]; ok {
		t.Error("fixtures wrote into the caller's Env map")
	}

	for _, tc := range []struct{ name, fixture, wantErr string }{
		{"an unknown fixture is an error", "Nope", `unknown fixture "Nope"`},
		{"a failing fixture is an error", "Broken", `fixture "Broken": no database`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suite := mustParse(t, "fixtures: ["+tc.fixture+"]\ntests:\n- name: a\n  GET: /\n")
			r, err := newRunner("f.yaml", suite, Options{BaseURL: srv.URL, Fixtures: fixtures})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.setup(t); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("setup error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewRunner_RejectsBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "localhost:80", "ftp://host/"} {
		if _, err := newRunner("f.yaml", &Suite{}, Options{BaseURL: base}); err == nil {
			t.Errorf("newRunner accepted base URL %q", base)
		}
	}
}

func TestRunFile(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, "")
	path := filepath.Join(t.TempDir(), "things.yaml")
	doc := `fixtures: [Setup]
defaults:
  request_headers:
    x-auth-token: admin
tests:
- name: create a thing
  POST: /things
  status: 201
- name: follow the location
  GET: $LOCATION
  response_json_paths:
    $.id: $ENVIRON['ID']
- name: skipped one
  GET: /status/500
  skip: demonstrating skip
- name: expected failure
  GET: /status/500
  xfail: true
`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	RunFile(t, path, Options{
		BaseURL: srv.URL,
		Fixtures: map[string]Fixture{"Setup": func(_ testing.TB, _ string, env map[string]string) error {
			env["ID"] = "abc"
			return nil
		}},
	})
}

// TestRunFile_DeselectedTestsStillRun re-runs the test binary with -run
// selecting only the second test of a file: the first must still run, since
// the second uses its response, and its failure must be reported.
func TestRunFile_DeselectedTestsStillRun(t *testing.T) {
	if mode := os.Getenv("GABBI_TEST_CHILD"); mode != "" {
		srv := newTestServer(t, "")
		status := "201"
		if mode == "fail" {
			status = "418"
		}
		path := filepath.Join(t.TempDir(), "f.yaml")
		doc := "tests:\n- name: create\n  POST: /things\n  status: " + status + "\n" +
			"- name: use\n  GET: /echo/$RESPONSE['$.id']\n  response_json_paths:\n    $.path: /echo/abc\n"
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		RunFile(t, path, Options{BaseURL: srv.URL})
		return
	}
	t.Parallel()
	for _, tc := range []struct {
		mode     string
		wantErr  bool
		wantText string
	}{
		{"pass", false, "--- PASS: TestRunFile_DeselectedTestsStillRun/use"},
		{"fail", true, `earlier test "create", run for its response although -run deselected it, failed`},
	} {
		t.Run("when the deselected test does "+tc.mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestRunFile_DeselectedTestsStillRun$/^use$", "-test.v")
			cmd.Env = append(os.Environ(), "GABBI_TEST_CHILD="+tc.mode)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantErr {
				t.Fatalf("child error = %v, want error %v\n%s", err, tc.wantErr, out)
			}
			if !strings.Contains(string(out), tc.wantText) {
				t.Errorf("child output lacks %q:\n%s", tc.wantText, out)
			}
			if strings.Contains(string(out), "RunFile_DeselectedTestsStillRun/create") {
				t.Errorf("the deselected test was reported:\n%s", out)
			}
		})
	}
}

func TestRunner_Check(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, "/p")
	doc := `tests:
- name: first
  POST: /things
  request_headers:
    x-mark: one
  status: 201
- name: refused by the check
  GET: /things/abc
- name: not run
  GET: /things/abc
`
	var seen []Exchange
	outs := runDoc(t, doc, Options{BaseURL: srv.URL + "/p", Check: func(e Exchange) error {
		seen = append(seen, e)
		if e.Method == "GET" {
			return errors.New("no GET today")
		}
		return nil
	}})
	if got := kinds(outs); got != "pass,fail,skip" {
		t.Fatalf("outcomes = %s, want pass,fail,skip\nfirst error: %s", got, firstError(outs))
	}
	if err := firstError(outs); !strings.Contains(err, "check: no GET today") {
		t.Errorf("error = %q, want the check's error", err)
	}
	if len(seen) != 2 {
		t.Fatalf("check saw %d exchanges, want 2", len(seen))
	}
	first := seen[0]
	if first.Method != "POST" || first.URL.Path != "/p/things" || first.RequestHeader.Get("X-Mark") != "one" ||
		first.Status != 201 || first.Header.Get("Location") != "/p/things/abc" || !strings.Contains(string(first.Body), `"id": "abc"`) {
		t.Errorf("first exchange = %+v", first)
	}
}

func TestRunner_CheckNotCalledWhenAssertionsFail(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, "")
	called := false
	outs := runDoc(t, "tests:\n- name: t\n  GET: /status/500\n", Options{BaseURL: srv.URL, Check: func(Exchange) error {
		called = true
		return nil
	}})
	if got := kinds(outs); got != "fail" {
		t.Fatalf("outcomes = %s, want fail", got)
	}
	if called {
		t.Error("check called for a response whose status assertion failed")
	}
}
