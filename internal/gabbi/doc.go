// Package gabbi runs gabbi-style YAML HTTP tests, the format of the Python
// gabbi project used by OpenStack Placement's functional tests, against an
// HTTP service.
//
// RunFile runs one file's tests in order as subtests; the first failing test
// stops the file and the rest are reported as skipped. When go test -run
// deselects some tests of a file they still run, unreported, because later
// tests may use their responses (gabbi's use_prior_test); if one fails, the
// next selected test fails with its error.
//
// Anything outside the subset below is an explicit error ("unsupported gabbi
// key X", "unsupported JSONPath syntax ...", "unsupported gabbi substitution
// $COOKIE"), never a silent pass. A response with a JSON Content-Type and a
// malformed body fails its test. Options.Check, when set, sees every
// response whose test's assertions passed, and its error fails the test.
//
// # File
//
// Top-level keys are fixtures (a list of names looked up in
// Options.Fixtures), defaults and tests. Any other top-level key is an error.
// YAML is read with YAML 1.1 booleans (yes/no/on/off) as PyYAML does;
// anchors, aliases and << merge keys work, and a repeated key keeps the last
// value.
//
// defaults are layered under each test: mappings merge key-wise with the
// test winning (request_headers case-insensitively), lists concatenate, and
// scalars and data are replaced.
//
// # Test keys
//
//   - name (required), desc.
//   - url plus method (default GET, upper-cased), or a method shortcut such
//     as "GET: /path"; any all-uppercase key is a method. Relative urls are
//     joined to Options.BaseURL, keeping its path prefix; absolute http(s)
//     urls are used as they are. Bytes that may not appear in a URL (space,
//     non-ASCII, ...) are percent-encoded, as urllib3 does for gabbi.
//   - request_headers: values are stringified as Python's str() would; a null
//     value sends no header, which lets a test drop a default. A Content-Type
//     is never added. Host sets the request's Host.
//   - query_parameters: a list value repeats the parameter; appended to the
//     url with form encoding.
//   - data: a string is sent as is; anything else is JSON-encoded. A string
//     starting with <@ (a file include) is unsupported.
//   - status: an integer or a string such as "200 || 204". Default 200.
//   - response_headers: exact comparison, or a regular expression search
//     when the value is /regex/; names are case-insensitive and repeated
//     headers are joined with ", ".
//   - response_forbidden_headers, response_strings (substrings of the body).
//   - response_json_paths: JSONPath → expected. A /regex/ expected value is
//     searched in the Python str() of the match; anything else is compared
//     deep-equal, with numbers compared by value (1 == 1.0).
//   - xfail: a failure is logged and passes; success fails the test.
//   - skip: a reason string, or true.
//   - poll: count (default 1) and delay (seconds, default 1) resend the
//     request until the assertions pass; transport errors are retried too.
//   - redirects: follow redirects (they are not followed otherwise).
//   - ssl: use https for relative urls.
//   - use_prior_test and verbose are accepted and ignored.
//
// # Substitutions
//
// Applied to url, request header values, query parameters, data (strings
// and mapping keys, recursively), response_headers values, response_strings,
// and response_json_paths paths and expected values, in gabbi's order:
//
//	$SCHEME, $NETLOC                     from Options.BaseURL
//	$ENVIRON['NAME'], $ENVIRON["NAME"]   Options.Env, fixtures, then os.Getenv
//	$LOCATION                            the previous response's Location
//	$LAST_URL, $URL                      the previous request's full URL
//	$HEADERS['name']                     a previous response header
//	$RESPONSE['jsonpath']                from the previous JSON response
//	$HISTORY['test name'].$X             $X taken from that earlier test
//
// In data and in response_json_paths expected values, a string that is
// exactly one $RESPONSE keeps the JSON type of the value, and one that is
// exactly one $ENVIRON is cast as gabbi does: true/false to a boolean,
// numeric text to a number (float when it has a dot). Embedded in a longer
// string, values are rendered as Python's str() would. Inside a /regex/
// expectation, substituted text is regex-quoted. $COOKIE is unsupported.
//
// # JSONPath
//
// The jsonpath-rw / jsonpath-rw-ext subset: root $ (optional), .key,
// ['key'] and ["key"] (also several, comma-separated), [n] with negative n,
// [a:b], [*] (which, like jsonpath-rw, yields a non-list value itself), .*
// (object values), ..key (recursive descent), filters [?key = 'v'],
// [?key == "v"], [?key != 'v'], [?key = 5], [?key.sub = 'v'], [?key] and
// also <, <=, >, >=, =~ and & between expressions, .`len`, .`sorted`,
// .`this`, and [/key] / [\key] to sort a list of objects ascending or
// descending (several keys comma-separated). Keys after a dot may contain
// any character other than . [ ] ` ' " ( ) | & = ! < > ? , * and
// whitespace, so UUID keys work unquoted.
//
// As in jsonpath-rw, .key on a list matches nothing (lists are not
// flattened), `sorted` on an object yields its sorted keys, and a numeric
// filter literal also matches numeric strings. A path matching one value
// yields that value, several yield a list, and none fails with "JSONPath X
// matched nothing". Other syntax (unions with |, arithmetic, `parent`,
// `split`, script expressions) is an error.
package gabbi
