package schema

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Schema is a compiled draft-4 JSON schema. It is safe for concurrent use.
type Schema struct {
	name     string
	compiled *jsonschema.Schema
	w        *walker
}

// schemaURL names the single in-memory resource of each compiler.
const schemaURL = "mem:///schema.json"

// MustCompile compiles a draft-4 schema given as JSON text. It panics if
// the text is not JSON or not a valid schema: schemas are program
// constants. name only appears in the panic message.
//
// Formats are asserted; "uuid" is the lenient check of the reference
// server (see IsUUIDLike).
func MustCompile(name, schemaJSON string) *Schema {
	s, err := compile(name, schemaJSON)
	if err != nil {
		panic(err)
	}
	return s
}

func compile(name, schemaJSON string) (*Schema, error) {
	root, err := DecodeJSON([]byte(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	c.AssertFormat = true
	c.Formats["uuid"] = IsUUIDLike
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %s: external reference %s is not allowed", name, u)
	}
	if err := c.AddResource(schemaURL, strings.NewReader(schemaJSON)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	w := &walker{
		root:    root,
		regexps: make(map[string]*regexp.Regexp),
		formats: func(format string) func(any) bool {
			if f, ok := c.Formats[format]; ok {
				return f
			}
			return jsonschema.Formats[format]
		},
	}
	collectRegexps(root, w.regexps)
	return &Schema{name: name, compiled: compiled, w: w}, nil
}

// collectRegexps compiles every "pattern" and patternProperties key once,
// so that validation never writes to the cache.
func collectRegexps(v any, into map[string]*regexp.Regexp) {
	add := func(p string) {
		if _, ok := into[p]; ok {
			return
		}
		if re, err := regexp.Compile(p); err == nil {
			into[p] = re
		}
	}
	switch x := v.(type) {
	case *pycompat.Object:
		if p, ok := x.Get("pattern").(string); ok {
			add(p)
		}
		if pp, ok := x.Get("patternProperties").(*pycompat.Object); ok {
			for _, p := range pp.Keys() {
				add(p)
			}
		}
		for _, v := range x.Values() {
			collectRegexps(v, into)
		}
	case []any:
		for _, e := range x {
			collectRegexps(e, into)
		}
	}
}

// Validate checks doc, a value in encoding/json's generic form decoded with
// UseNumber (map[string]any, []any, string, json.Number, bool, nil). It
// returns nil or a *ValidationError; any other error means doc holds a Go
// type that is not JSON. Object keys are taken in sorted order; see
// ValidateJSON to keep the document's order.
func (s *Schema) Validate(doc any) error {
	ordered, err := fromGeneric(doc)
	if err != nil {
		return err
	}
	return s.validate(doc, ordered)
}

// ValidateJSON decodes data with DecodeJSON and validates the result,
// taking the body's key order into account for the error reported. It
// returns the document in DecodeJSON's ordered form, or a *SyntaxError
// ("Malformed JSON: ...") or a *ValidationError ("JSON does not validate:
// ..."). Callers read the body's values and key order from the document
// rather than parsing the body again.
func (s *Schema) ValidateJSON(data []byte) (any, error) {
	doc, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	if err := s.validate(pycompat.Unordered(doc), doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (s *Schema) validate(doc, ordered any) error {
	if HasNonFinite(doc) || hasInfiniteLiteral(doc) {
		// The library cannot hold NaN or an infinity, and reads 1e400 as
		// a (huge, integral) number where Python reads inf; the walker
		// judges them as jsonschema does.
		if best := bestMatch(s.w.iterErrors(ordered, s.w.root, 0)); best != nil {
			return best.validationError()
		}
		return nil
	}
	err := s.compiled.Validate(pyFloats(doc))
	if err == nil {
		return nil
	}
	var lerr *jsonschema.ValidationError
	if !errors.As(err, &lerr) {
		return fmt.Errorf("schema %s: %w", s.name, err)
	}
	if best := bestMatch(s.w.iterErrors(ordered, s.w.root, 0)); best != nil {
		return best.validationError()
	}
	// The library and the walker disagree; report the library's leaf error
	// in the Python shape rather than nothing.
	return s.w.fromLibrary(lerr, ordered)
}

// fromLibrary converts the library's first leaf error.
func (w *walker) fromLibrary(lerr *jsonschema.ValidationError, inst any) *ValidationError {
	for len(lerr.Causes) > 0 {
		lerr = lerr.Causes[0]
	}
	var schemaPath []any
	var keyword string
	kw := pointerTokens(lerr.KeywordLocation)
	if len(kw) > 0 {
		keyword = kw[len(kw)-1]
		for _, t := range kw[:len(kw)-1] {
			if t == "$ref" {
				continue
			}
			if n, err := strconv.Atoi(t); err == nil && len(schemaPath) > 0 {
				switch schemaPath[len(schemaPath)-1] {
				case "allOf", "anyOf", "oneOf", "items":
					schemaPath = append(schemaPath, n)
					continue
				}
			}
			schemaPath = append(schemaPath, t)
		}
	}
	var path []any
	cur := inst
	for _, t := range pointerTokens(lerr.InstanceLocation) {
		switch c := cur.(type) {
		case []any:
			n, _ := strconv.Atoi(t)
			path = append(path, n)
			if n >= 0 && n < len(c) {
				cur = c[n]
			}
		case *pycompat.Object:
			path = append(path, t)
			cur = c.Get(t)
		default:
			path = append(path, t)
		}
	}
	var sch any
	if _, frag, ok := strings.Cut(lerr.AbsoluteKeywordLocation, "#"); ok {
		if i := strings.LastIndexByte(frag, '/'); i >= 0 {
			sch, _ = w.resolve("#" + frag[:i])
		}
	}
	return &ValidationError{
		Keyword:      keyword,
		Message:      lerr.Message,
		SchemaPath:   formatAsIndex("schema", schemaPath),
		InstancePath: formatAsIndex("instance", path),
		Path:         path,
		Schema:       pycompat.Unordered(sch),
		Instance:     pycompat.Unordered(cur),
		schema:       sch,
		instance:     cur,
	}
}

// pointerTokens splits a JSON pointer such as "/properties/a~1b" whose
// tokens the library has also URL-escaped.
func pointerTokens(ptr string) []string {
	ptr = strings.TrimPrefix(ptr, "#")
	if ptr == "" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range toks {
		if u, err := url.PathUnescape(t); err == nil {
			t = u
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}

// IsUUIDLike is the reference server's "uuid" format check
// (oslo.utils is_uuid_like): after removing "urn:" and "uuid:", any
// surrounding braces and every "-", the value must be 32 hex digits, in
// either case. Non-strings fail, as they do upstream.
func IsUUIDLike(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
