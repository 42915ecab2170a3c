// Package openapi holds the OpenAPI 3.1 description of the API at the
// latest microversion (openapi.json, served at GET /openapi.json) and a
// Validator that checks a response against it.
//
// The description is written by hand. The gabbits run every response to a
// request sent at microversion 1.39 or "latest" through Validate, so the
// description and the service cannot drift apart unnoticed.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed openapi.json
var document []byte

// Document returns the description as JSON. The caller must not modify it.
func Document() []byte { return document }

// docURL is the name the description is compiled under; schema locations
// are JSON pointers into it.
const docURL = "mem:///openapi.json"

// Validator checks responses against a description.
type Validator struct {
	paths []*pathItem
	// notFound and methodNotAllowed describe the 404 of a path no entry
	// matches and the 405 of a method a path does not have.
	notFound, methodNotAllowed *response
}

type pathItem struct {
	template string
	segments []string                        // paramSegment for a {parameter} segment
	ops      map[string]map[string]*response // method → status → response
}

// paramSegment stands for a path parameter in pathItem.segments; it
// matches any non-empty segment.
const paramSegment = "{}"

type response struct {
	headers []header
	content map[string]*jsonschema.Schema // media type → schema (nil: not JSON)
}

type header struct {
	name     string
	required bool
	schema   *jsonschema.Schema
}

// NewValidator compiles the embedded description.
func NewValidator() (*Validator, error) { return newValidator(document) }

func newValidator(doc []byte) (*Validator, error) {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(docURL, bytes.NewReader(doc)); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	b := &builder{root: root, compiler: c}
	v := &Validator{}
	paths, _ := root["paths"].(map[string]any)
	templates := make([]string, 0, len(paths))
	for t := range paths {
		templates = append(templates, t)
	}
	slices.Sort(templates)
	for _, t := range templates {
		item := &pathItem{template: t, ops: map[string]map[string]*response{}}
		for _, seg := range strings.Split(strings.TrimPrefix(t, "/"), "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				seg = paramSegment
			}
			item.segments = append(item.segments, seg)
		}
		ops, _ := paths[t].(map[string]any)
		for method, op := range ops {
			if !isMethod(method) {
				continue
			}
			ptr := "/paths/" + escape(t) + "/" + method + "/responses"
			responses, _ := op.(map[string]any)["responses"].(map[string]any)
			if len(responses) == 0 {
				return nil, fmt.Errorf("openapi: %s %s has no responses", strings.ToUpper(method), t)
			}
			byStatus := map[string]*response{}
			for status := range responses {
				r, err := b.response(ptr + "/" + escape(status))
				if err != nil {
					return nil, fmt.Errorf("openapi: %s %s %s: %w", strings.ToUpper(method), t, status, err)
				}
				byStatus[status] = r
			}
			item.ops[strings.ToUpper(method)] = byStatus
		}
		v.paths = append(v.paths, item)
	}
	var err error
	if v.notFound, err = b.response("/components/responses/NotFound"); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if v.methodNotAllowed, err = b.response("/components/responses/MethodNotAllowed"); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return v, nil
}

func isMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// builder turns response objects, following local $refs, into responses
// with compiled schemas.
type builder struct {
	root     map[string]any
	compiler *jsonschema.Compiler
}

// resolve returns the object at ptr, following $ref, and its location.
func (b *builder) resolve(ptr string) (map[string]any, string, error) {
	for range 10 {
		var cur any = b.root
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, "", fmt.Errorf("%s: not found", ptr)
			}
			if cur, ok = m[tok]; !ok {
				return nil, "", fmt.Errorf("%s: not found", ptr)
			}
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s: not an object", ptr)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, ptr, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil, "", fmt.Errorf("%s: only local references are supported, not %q", ptr, ref)
		}
		ptr = ref[1:]
	}
	return nil, "", fmt.Errorf("%s: too many references", ptr)
}

func (b *builder) schema(ptr string) (*jsonschema.Schema, error) {
	return b.compiler.Compile(docURL + "#" + ptr)
}

func (b *builder) response(ptr string) (*response, error) {
	obj, ptr, err := b.resolve(ptr)
	if err != nil {
		return nil, err
	}
	r := &response{content: map[string]*jsonschema.Schema{}}
	headers, _ := obj["headers"].(map[string]any)
	for name := range headers {
		h, hptr, err := b.resolve(ptr + "/headers/" + escape(name))
		if err != nil {
			return nil, err
		}
		required, _ := h["required"].(bool)
		s, err := b.schema(hptr + "/schema")
		if err != nil {
			return nil, err
		}
		r.headers = append(r.headers, header{name: name, required: required, schema: s})
	}
	content, _ := obj["content"].(map[string]any)
	for mt := range content {
		if !isJSON(mt) {
			r.content[mt] = nil
			continue
		}
		s, err := b.schema(ptr + "/content/" + escape(mt) + "/schema")
		if err != nil {
			return nil, err
		}
		r.content[mt] = s
	}
	return r, nil
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// find returns the entry whose template matches path; where several do, the
// one with the most literal segments.
func (v *Validator) find(path string) *pathItem {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *pathItem
	bestLiterals := -1
	for _, p := range v.paths {
		if len(p.segments) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, s := range p.segments {
			switch {
			case s == paramSegment && segs[i] != "":
			case s == segs[i]:
				literals++
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = p, literals
		}
	}
	return best
}

// Validate checks one response to method path (the request path, without
// the service's mount prefix or query) against the description: the status
// must be documented for the operation, required headers present and
// matching their schema, the Content-Type one of the documented media types
// and a JSON body valid against its schema. A path the description does not
// have may only answer 404, and a method a path does not have only 405,
// each with the documented error body.
func (v *Validator) Validate(method, path string, status int, h http.Header, body []byte) error {
	p := v.find(path)
	var r *response
	switch {
	case p == nil && status == http.StatusNotFound:
		r = v.notFound
	case p == nil:
		return fmt.Errorf("%s %s answered %d, but no path of the description matches %s", method, path, status, path)
	case p.ops[method] == nil && status == http.StatusMethodNotAllowed:
		r = v.methodNotAllowed
	case p.ops[method] == nil:
		return fmt.Errorf("%s %s answered %d, but the description has no %s operation for %s", method, path, status, method, p.template)
	default:
		if r = p.ops[method][strconv.Itoa(status)]; r == nil {
			return fmt.Errorf("%s %s answered %d, a status the description does not list for %s %s", method, path, status, method, p.template)
		}
	}
	if err := r.check(h, body); err != nil {
		where := path
		if p != nil {
			where = p.template
		}
		return fmt.Errorf("%s %s answered %d not as described for %s %s: %w", method, path, status, method, where, err)
	}
	return nil
}

func (r *response) check(h http.Header, body []byte) error {
	var errs []error
	for _, hd := range r.headers {
		vals := h.Values(hd.name)
		if len(vals) == 0 {
			if hd.required {
				errs = append(errs, fmt.Errorf("header %s is missing", hd.name))
			}
			continue
		}
		if err := hd.schema.Validate(strings.Join(vals, ", ")); err != nil {
			errs = append(errs, fmt.Errorf("header %s: %v", hd.name, err))
		}
	}
	ct := h.Get("Content-Type")
	if len(r.content) == 0 {
		if len(body) > 0 || ct != "" {
			errs = append(errs, fmt.Errorf("no body is described, got %d bytes of %q", len(body), ct))
		}
		return errors.Join(errs...)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("Content-Type %q: %v", ct, err))...)
	}
	s, ok := r.content[mt]
	if !ok {
		return errors.Join(append(errs, fmt.Errorf("Content-Type %s is not one the description lists", mt))...)
	}
	if s == nil {
		return errors.Join(errs...)
	}
	doc, err := decode(body)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("body: %v", err))...)
	}
	if err := s.Validate(doc); err != nil {
		errs = append(errs, fmt.Errorf("body: %#v", err))
	}
	return errors.Join(errs...)
}

// decode reads JSON with numbers kept as json.Number, which the schema
// validator needs to tell 1 from 1.5 exactly.
func decode(body []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}
