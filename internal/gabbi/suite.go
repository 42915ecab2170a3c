package gabbi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Suite is a parsed gabbi file. The file's defaults are already merged into
// every test.
type Suite struct {
	Fixtures []string
	Tests    []Test
}

// Header is a header name with a value, in file order.
type Header struct {
	Name  string
	Value string
}

// QueryParam is one query_parameters entry; several values repeat the
// parameter. Values are unsubstituted YAML scalars.
type QueryParam struct {
	Name   string
	Values []any
}

// JSONPathCheck is one response_json_paths entry. Expected is the decoded
// YAML value (nil, bool, string, json.Number, []any or an ordered mapping),
// before substitution.
type JSONPathCheck struct {
	Path     string
	Expected any
}

// Poll retries a test until its assertions pass, at most Count times with
// Delay between attempts.
type Poll struct {
	Count int
	Delay time.Duration
}

// Test is one entry of a file's tests list, after defaults were merged.
// Strings hold unsubstituted templates; substitution happens when the test
// runs because it depends on earlier responses.
type Test struct {
	Name                     string
	Desc                     string
	Method                   string
	URL                      string
	RequestHeaders           []Header
	QueryParameters          []QueryParam
	Data                     any // nil or "" means no body
	Status                   []int
	ResponseHeaders          []Header
	ResponseForbiddenHeaders []string
	ResponseStrings          []string
	ResponseJSONPaths        []JSONPathCheck
	XFail                    bool
	Skip                     string // non-empty: the reason to skip
	Poll                     Poll
	Redirects                bool
	SSL                      bool
}

// Parse parses a gabbi YAML document. It returns an error, naming the test,
// for malformed files and for any key or feature outside the supported
// subset described in the package documentation.
func Parse(data []byte) (*Suite, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	root, err := fromYAML(&doc)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	top, ok := root.(*pycompat.Object)
	if !ok {
		return nil, errors.New("a gabbi file must be a mapping with a tests key")
	}
	s := &Suite{}
	var defaults *pycompat.Object
	var tests []any
	haveTests := false
	for _, k := range top.Keys() {
		v := top.Get(k)
		switch k {
		case "fixtures":
			names, err := stringList(v)
			if err != nil {
				return nil, fmt.Errorf("fixtures: %w", err)
			}
			s.Fixtures = names
		case "defaults":
			if v == nil {
				continue
			}
			if defaults, ok = v.(*pycompat.Object); !ok {
				return nil, errors.New("defaults must be a mapping")
			}
			if _, ok := defaults.Lookup("name"); ok {
				return nil, errors.New("defaults must not set name")
			}
		case "tests":
			if tests, ok = v.([]any); !ok {
				return nil, errors.New("tests must be a list")
			}
			haveTests = true
		default:
			return nil, fmt.Errorf("unsupported gabbi key %q at top level", k)
		}
	}
	if !haveTests {
		return nil, errors.New("no tests key")
	}
	for i, raw := range tests {
		tm, ok := raw.(*pycompat.Object)
		if !ok {
			return nil, fmt.Errorf("test %d: a test must be a mapping", i+1)
		}
		t, err := buildTest(mergeDefaults(defaults, tm))
		if err != nil {
			if name, ok := tm.Lookup("name"); ok {
				return nil, fmt.Errorf("test %d (%s): %w", i+1, pyStr(name), err)
			}
			return nil, fmt.Errorf("test %d: %w", i+1, err)
		}
		s.Tests = append(s.Tests, t)
	}
	return s, nil
}

// mergeDefaults layers a test over the defaults as gabbi does: mappings merge
// key-wise (request headers case-insensitively) with the test winning, lists
// concatenate, and everything else, including data, is replaced.
func mergeDefaults(defaults, test *pycompat.Object) *pycompat.Object {
	if defaults == nil {
		return test
	}
	out := defaults.Clone()
	for _, k := range test.Keys() {
		v := test.Get(k)
		old, had := out.Lookup(k)
		om, oldIsMap := old.(*pycompat.Object)
		nm, newIsMap := v.(*pycompat.Object)
		ol, oldIsList := old.([]any)
		nl, newIsList := v.([]any)
		switch {
		case !had || k == "data":
			out.Set(k, v)
		case oldIsMap && newIsMap:
			merged := om.Clone()
			for _, nk := range nm.Keys() {
				if k == "request_headers" {
					for _, ok := range append([]string(nil), merged.Keys()...) {
						if strings.EqualFold(ok, nk) {
							merged.Delete(ok)
						}
					}
				}
				merged.Set(nk, nm.Get(nk))
			}
			out.Set(k, merged)
		case oldIsList && newIsList:
			out.Set(k, append(append([]any(nil), ol...), nl...))
		default:
			out.Set(k, v)
		}
	}
	return out
}

func isMethodKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func unsupportedKey(k string) error {
	return fmt.Errorf("unsupported gabbi key %q", k)
}

func buildTest(m *pycompat.Object) (Test, error) {
	t := Test{Method: "GET", Status: []int{200}}
	var shortcut string
	var shortcutURL string
	haveURL := false
	for _, k := range m.Keys() {
		v := m.Get(k)
		var err error
		switch k {
		case "name":
			t.Name, err = scalarString(v)
		case "desc":
			t.Desc, err = scalarString(v)
		case "url":
			t.URL, err = scalarString(v)
			haveURL = true
		case "method":
			t.Method, err = scalarString(v)
			t.Method = strings.ToUpper(strings.TrimSpace(t.Method))
		case "request_headers":
			t.RequestHeaders, err = headerList(v, true)
		case "query_parameters":
			t.QueryParameters, err = queryParams(v)
		case "data":
			if s, ok := v.(string); ok && strings.HasPrefix(s, "<@") {
				err = errors.New("unsupported gabbi feature: file include (<@)")
			}
			t.Data = v
		case "status":
			t.Status, err = parseStatus(v)
		case "response_headers":
			t.ResponseHeaders, err = headerList(v, false)
		case "response_forbidden_headers":
			t.ResponseForbiddenHeaders, err = stringList(v)
		case "response_strings":
			t.ResponseStrings, err = stringList(v)
		case "response_json_paths":
			t.ResponseJSONPaths, err = jsonPathChecks(v)
		case "xfail":
			t.XFail, err = boolValue(v)
		case "skip":
			t.Skip, err = skipReason(v)
		case "poll":
			t.Poll, err = parsePoll(v)
		case "redirects":
			t.Redirects, err = boolValue(v)
		case "ssl":
			t.SSL, err = boolValue(v)
		case "use_prior_test", "verbose":
			// Tests always run in file order, and verbosity is the go test
			// runner's business.
		default:
			if !isMethodKey(k) {
				return t, unsupportedKey(k)
			}
			if shortcut != "" {
				return t, fmt.Errorf("duplicate method/URL directive: %s and %s", shortcut, k)
			}
			shortcut = k
			shortcutURL, err = scalarString(v)
		}
		if err != nil {
			return t, fmt.Errorf("%s: %w", k, err)
		}
	}
	if t.Name == "" {
		return t, errors.New("test name missing")
	}
	if shortcut != "" {
		t.Method, t.URL, haveURL = shortcut, shortcutURL, true
	}
	if !haveURL || t.URL == "" {
		return t, errors.New("test url missing")
	}
	if t.Method == "" {
		return t, errors.New("method is empty")
	}
	return t, nil
}

// scalarString renders a scalar the way Python's str() would; lists and
// mappings are rejected.
func scalarString(v any) (string, error) {
	switch v.(type) {
	case []any, *pycompat.Object:
		return "", fmt.Errorf("expected a scalar, got %s", show(v))
	}
	return pyStr(v), nil
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list, got %s", show(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, err := scalarString(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// headerList reads a header mapping. For request headers a null value means
// "do not send this header", which lets a test drop a default header.
func headerList(v any, request bool) ([]Header, error) {
	var out []Header
	err := eachEntry(v, func(k string, hv any) error {
		if hv == nil && request {
			return nil
		}
		s, err := scalarString(hv)
		if err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
		out = append(out, Header{Name: k, Value: s})
		return nil
	})
	return out, err
}

func queryParams(v any) ([]QueryParam, error) {
	var out []QueryParam
	err := eachEntry(v, func(k string, qv any) error {
		values, isList := qv.([]any)
		if !isList {
			values = []any{qv}
		}
		for _, e := range values {
			if _, err := scalarString(e); err != nil {
				return fmt.Errorf("parameter %s: %w", k, err)
			}
		}
		out = append(out, QueryParam{Name: k, Values: values})
		return nil
	})
	return out, err
}

func jsonPathChecks(v any) ([]JSONPathCheck, error) {
	var out []JSONPathCheck
	err := eachEntry(v, func(k string, exp any) error {
		if s, ok := exp.(string); ok && strings.HasPrefix(s, "<@") {
			return fmt.Errorf("%s: unsupported gabbi feature: file include (<@)", k)
		}
		out = append(out, JSONPathCheck{Path: k, Expected: exp})
		return nil
	})
	return out, err
}

// eachEntry calls fn with every key and value of the mapping v, in order,
// and stops at the first error; a nil v has no entries.
func eachEntry(v any, fn func(k string, v any) error) error {
	if v == nil {
		return nil
	}
	m, ok := v.(*pycompat.Object)
	if !ok {
		return fmt.Errorf("expected a mapping, got %s", show(v))
	}
	for _, k := range m.Keys() {
		if err := fn(k, m.Get(k)); err != nil {
			return err
		}
	}
	return nil
}

// parseStatus accepts an integer or a string such as "200 || 204".
func parseStatus(v any) ([]int, error) {
	s, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, part := range strings.Split(s, "||") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 100 || n > 999 {
			return nil, fmt.Errorf("invalid status %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func boolValue(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("expected a boolean, got %s", show(v))
}

func skipReason(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case bool:
		if x {
			return "skipped by the test file", nil
		}
		return "", nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf("expected a reason string or a boolean, got %s", show(v))
}

func parsePoll(v any) (Poll, error) {
	p := Poll{Count: 1, Delay: time.Second}
	err := eachEntry(v, func(k string, v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%s: expected a number, got %s", k, show(v))
		}
		switch k {
		case "count":
			c, err := strconv.Atoi(string(n))
			if err != nil || c < 1 {
				return fmt.Errorf("count: expected a positive integer, got %s", n)
			}
			p.Count = c
		case "delay":
			f, err := n.Float64()
			if err != nil || f < 0 {
				return fmt.Errorf("delay: expected a non-negative number, got %s", n)
			}
			p.Delay = time.Duration(f * float64(time.Second))
		default:
			return unsupportedKey("poll." + k)
		}
		return nil
	})
	return p, err
}
