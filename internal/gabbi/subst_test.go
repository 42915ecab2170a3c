package gabbi

import (
	"reflect"
	"testing"
)

func TestFindTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		kind string
		arg  bool
		want []template
	}{
		{
			name: "single quotes",
			s:    "/x/$ENVIRON['A']/y",
			kind: "ENVIRON", arg: true,
			want: []template{{start: 3, end: 16, arg: "A"}},
		},
		{
			name: "double quotes and two occurrences",
			s:    `$ENVIRON["A"]$ENVIRON['B']`,
			kind: "ENVIRON", arg: true,
			want: []template{{start: 0, end: 13, arg: "A"}, {start: 13, end: 26, arg: "B"}},
		},
		{
			name: "a path argument may contain the other quote",
			s:    `$RESPONSE['$.a[?b = "c"].d']`,
			kind: "RESPONSE", arg: true,
			want: []template{{start: 0, end: 28, arg: `$.a[?b = "c"].d`}},
		},
		{
			name: "a history prefix is part of the template",
			s:    "$HISTORY['make it'].$RESPONSE['$.id']",
			kind: "RESPONSE", arg: true,
			want: []template{{start: 0, end: 37, history: "make it", hasHistory: true, arg: "$.id"}},
		},
		{
			name: "$URL does not match inside $LAST_URL",
			s:    "$LAST_URL",
			kind: "URL",
		},
		{
			name: "simple templates take no argument",
			s:    "$HISTORY['a'].$URL/x",
			kind: "URL",
			want: []template{{start: 0, end: 18, history: "a", hasHistory: true}},
		},
		{
			name: "an unterminated argument is left alone",
			s:    "$ENVIRON['A",
			kind: "ENVIRON", arg: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := findTemplates(tc.s, tc.kind, tc.arg)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findTemplates(%q) = %+v, want %+v", tc.s, got, tc.want)
			}
		})
	}
}

// create posts /things, whose response is
// {"id": "abc", "n": 5, "ratio": 1.5, "flag": true, "tags": ["x", "y"],
// "meta": {"k": "v"}, "keys": {"abc": {"size": 7}}} with Location
// /things/abc.
const create = `- name: create
  POST: /things
  status: 201
`

func TestSubstitutions(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"NAME":  "abc",
		"NUM":   "5",
		"FLOAT": "1.5",
		"BOOL":  "true",
		"DOT":   "a.c",
	}
	checkRunCases(t, "", []runCase{
		{
			name: "$ENVIRON works in url, headers, query parameters and json paths",
			env:  env,
			doc: `tests:
- name: a
  GET: /echo/$ENVIRON['NAME']
  request_headers:
    x-name: $ENVIRON["NAME"]-suffix
  query_parameters:
    n: $ENVIRON['NUM']
  response_json_paths:
    $.path: /echo/$ENVIRON['NAME']
    $.headers.x-name: abc-suffix
    $.query: n=5
`,
			want: "pass",
		},
		{
			name: "$ENVIRON alone in data and expected values is cast",
			env:  env,
			doc: `tests:
- name: a
  POST: /echo/d
  data:
    n: $ENVIRON['NUM']
    f: $ENVIRON['FLOAT']
    b: $ENVIRON['BOOL']
    s: $ENVIRON['NAME']
    embedded: n=$ENVIRON['NUM']
    $ENVIRON['NAME']: key
  response_json_paths:
    $.body: '{"n":5,"f":1.5,"b":true,"s":"abc","embedded":"n=5","abc":"key"}'
- name: b
  POST: /things
  status: 201
  response_json_paths:
    $.n: $ENVIRON['NUM']
    $.flag: $ENVIRON['BOOL']
    $.keys.$ENVIRON['NAME'].size: 7
`,
			want: "pass,pass",
		},
		{
			name:    "a missing $ENVIRON variable fails",
			doc:     "tests:\n- name: a\n  GET: /echo/$ENVIRON['GABBI_TEST_SURELY_UNSET']\n",
			want:    "fail",
			wantErr: "$ENVIRON['GABBI_TEST_SURELY_UNSET']: environment variable not set",
		},
		{
			name: "$ENVIRON inside a regex is quoted",
			env:  env,
			doc: `tests:
- name: a
  GET: /echo/abc
  response_json_paths:
    $.path: /$ENVIRON['DOT']/
`,
			want:    "fail",
			wantErr: `expected a match for /a\.c/`,
		},
		{
			name: "$RESPONSE embedded in a string is stringified",
			doc: `tests:
` + create + `- name: use it
  GET: /echo/$RESPONSE['$.id']/$RESPONSE['$.n']/$RESPONSE['$.flag']
  response_json_paths:
    $.path: /echo/abc/5/True
`,
			want: "pass,pass",
		},
		{
			name: "$RESPONSE alone in data keeps its JSON type",
			doc: `tests:
` + create + `- name: use it
  POST: /echo/d
  data:
    n: $RESPONSE['$.n']
    tags: $RESPONSE['$.tags']
    meta: $RESPONSE['$.meta']
    ratio: $RESPONSE["$.ratio"]
  response_json_paths:
    $.body: '{"n":5,"tags":["x","y"],"meta":{"k":"v"},"ratio":1.5}'
`,
			want: "pass,pass",
		},
		{
			name: "$RESPONSE alone in string data keeps its JSON type",
			doc: `tests:
` + create + `- name: use it
  POST: /echo/d
  data: $RESPONSE['$.meta']
  response_json_paths:
    $.body: '{"k":"v"}'
`,
			want: "pass,pass",
		},
		{
			name: "$RESPONSE in an expected value keeps its JSON type",
			doc: `tests:
` + create + `- name: echo
  POST: /echo/d
  data: {tags: [x, y], n: 5}
  response_json_paths:
    $.body: '{"tags":["x","y"],"n":5}'
- name: compare with the echo
  POST: /things
  status: 201
  response_json_paths:
    $.tags: $HISTORY['create'].$RESPONSE['$.tags']
    $.n: $HISTORY['create'].$RESPONSE['$.n']
`,
			want: "pass,pass,pass",
		},
		{
			name: "$ENVIRON inside a $RESPONSE path is substituted first",
			env:  env,
			doc: `tests:
` + create + `- name: use it
  GET: /echo/$RESPONSE['$.keys.$ENVIRON["NAME"].size']
  response_json_paths:
    $.path: /echo/7
`,
			want: "pass,pass",
		},
		{
			name: "$LOCATION, $LAST_URL and $URL come from the previous test",
			doc: `tests:
` + create + `- name: location
  GET: $LOCATION
  response_json_paths:
    $.id: abc
- name: last url
  GET: $LAST_URL
  response_json_paths:
    $.n: 6
- name: url
  GET: $URL
  response_json_paths:
    $.n: 6
`,
			want: "pass,pass,pass,pass",
		},
		{
			name: "$HISTORY reaches named earlier tests",
			doc: `tests:
` + create + `- name: something else
  GET: /echo/x?q=1
- name: history
  GET: /echo/$HISTORY['create'].$RESPONSE['$.id']
  request_headers:
    x-loc: $HISTORY['create'].$LOCATION
    x-url: $HISTORY['something else'].$URL
    x-hdr: $HISTORY['something else'].$HEADERS['x-request-id']
  response_json_paths:
    $.path: /echo/abc
    $.headers.x-loc: /things/abc
    $.headers.x-url: $SCHEME://$NETLOC/echo/x?q=1
    $.headers.x-hdr: req-0
`,
			want: "pass,pass,pass",
		},
		{
			name: "$HEADERS reads the previous response's header",
			doc: `tests:
- name: first
  POST: /echo/d
  data: "12345"
- name: second
  GET: /echo/$HEADERS['X-REQUEST-ID']
  response_json_paths:
    $.path: /echo/req-5
`,
			want: "pass,pass",
		},
		{
			name: "substitutions work in response_headers and response_strings",
			doc: `tests:
` + create + `- name: check
  GET: /things/abc
  request_headers:
    x-id: $RESPONSE['$.id']
  response_headers:
    content-type: /^application\/json$/
  response_strings:
    - $HISTORY['create'].$RESPONSE['$.id']
`,
			want: "pass,pass",
		},
		{
			name:    "$RESPONSE in the first test fails",
			doc:     "tests:\n- name: a\n  GET: /echo/$RESPONSE['$.id']\n",
			want:    "fail",
			wantErr: "no prior test",
		},
		{
			name:    "$HISTORY with an unknown name fails",
			doc:     "tests:\n" + create + "- name: b\n  GET: /echo/$HISTORY['nope'].$RESPONSE['$.id']\n",
			want:    "pass,fail",
			wantErr: "$HISTORY['nope']: no earlier test with that name",
		},
		{
			name:    "$RESPONSE that matches nothing fails",
			doc:     "tests:\n" + create + "- name: b\n  GET: /echo/$RESPONSE['$.nope']\n",
			want:    "pass,fail",
			wantErr: "JSONPath $.nope matched nothing",
		},
		{
			name:    "$RESPONSE from a non-JSON response fails",
			doc:     "tests:\n- name: a\n  GET: /headers\n- name: b\n  GET: /echo/$RESPONSE['$.id']\n",
			want:    "pass,fail",
			wantErr: "no JSON response body",
		},
		{
			name:    "$LOCATION without a Location header fails",
			doc:     "tests:\n- name: a\n  GET: /headers\n- name: b\n  GET: $LOCATION\n",
			want:    "pass,fail",
			wantErr: "has no Location header",
		},
		{
			name:    "a skipped prior test has no response",
			doc:     "tests:\n- name: a\n  GET: /headers\n  skip: yes\n- name: b\n  GET: $LAST_URL\n",
			want:    "skip,fail",
			wantErr: `test "a" has no response`,
		},
	})
}

// TestSubstitutions_EnvironFallsBackToOS cannot be parallel: it sets a
// process environment variable.
func TestSubstitutions_EnvironFallsBackToOS(t *testing.T) {
	t.Setenv("GABBI_TEST_FROM_OS", "from-os")
	srv := newTestServer(t, "")
	doc := `tests:
- name: a
  GET: /echo/$ENVIRON['GABBI_TEST_FROM_OS']/$ENVIRON['SHADOWED']
  response_json_paths:
    $.path: /echo/from-os/from-options
`
	t.Setenv("SHADOWED", "from-os")
	outs := runDoc(t, doc, Options{BaseURL: srv.URL, Env: map[string]string{"SHADOWED": "from-options"}})
	if kinds(outs) != "pass" {
		t.Fatalf("outcomes = %s: %s", kinds(outs), firstError(outs))
	}
}
