// Package web holds what every handler needs around the HTTP exchange:
// reading and validating JSON bodies and query strings, writing JSON, caching
// headers, links and Location URLs, and the request id.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
)

// HandlerFunc is a handler that returns its error instead of writing it; the
// API's adapter renders every error in the Placement error format.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

type requestIDKey struct{}
type prefixKey struct{}

// WithRequestID returns ctx carrying the local request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the local request id ("req-<uuid>") of the request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithPrefix returns ctx carrying the mount prefix (e.g. "/placement").
func WithPrefix(ctx context.Context, prefix string) context.Context {
	return context.WithValue(ctx, prefixKey{}, prefix)
}

// Link returns the relative link for path, including the mount prefix.
func Link(r *http.Request, path string) string {
	prefix, _ := r.Context().Value(prefixKey{}).(string)
	return prefix + path
}

// AbsoluteURL returns the absolute URL of path for a Location header.
func AbsoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s, ok := r.Context().Value(schemeKey{}).(string); ok && s != "" {
		scheme = s
	}
	return scheme + "://" + r.Host + Link(r, path)
}

type schemeKey struct{}

// WithScheme records the scheme learnt from trusted proxy headers.
func WithScheme(ctx context.Context, scheme string) context.Context {
	return context.WithValue(ctx, schemeKey{}, scheme)
}

// Version returns the negotiated microversion of r.
func Version(r *http.Request) microversion.Version { return microversion.From(r.Context()) }

// ReadJSON reads r's body, checks it against s (nil: only that it is
// JSON) and returns the document as schema.DecodeJSON gives it, with the
// body's key order. The body is parsed once: handlers take its values and
// key order from the document. Errors carry upstream's messages:
// "Malformed JSON: …" and "JSON does not validate: …"; a body over the
// size limit is "Request body too large", and a string or key holding a
// NUL byte, which the database cannot store, is refused with MsgNULInBody.
func ReadJSON(r *http.Request, s *schema.Schema) (any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		// The cause stays wrapped: the renderer answers a body over the
		// limit (*http.MaxBytesError) with 413 whatever the kind here.
		return nil, &placement.Error{Kind: placement.Invalid, Message: "Malformed JSON: " + err.Error(), Err: err}
	}
	var doc any
	if s == nil {
		doc, err = schema.DecodeJSON(data)
	} else {
		// ValidateJSON keeps the body's key order, which decides which of
		// two equal errors upstream reports.
		doc, err = s.ValidateJSON(data)
	}
	var syntax *schema.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, placement.E(placement.Invalid, "Malformed JSON: %v", err)
	case err != nil:
		return nil, placement.E(placement.Invalid, "JSON does not validate: %v", err)
	}
	// A NUL can only be written as \u0000 in JSON; look further only then.
	if bytes.Contains(data, []byte(`\u0000`)) && hasNUL(doc) {
		return nil, placement.E(placement.Invalid, MsgNULInBody)
	}
	// Only a \uXXXX escape can bring a lone surrogate (invalid UTF-8 once
	// decoded); PostgreSQL cannot store one.
	if bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) && hasInvalidText(doc) {
		return nil, placement.E(placement.Invalid, MsgSurrogateInBody)
	}
	// NaN and infinities the schema let through (upstream then fails with
	// a 500 working with them) are no number this service can use.
	if schema.HasNonFinite(doc) {
		return nil, placement.E(placement.Invalid, MsgNonFiniteInBody)
	}
	return doc, nil
}

// DecodeBody is ReadJSON followed, when dst is not nil, by filling dst from
// the document with encoding/json's rules; integral floats such as 16.0,
// which the schema accepts as integers, fill integer fields. It returns the
// document in encoding/json's generic form (map[string]any for objects).
func DecodeBody(r *http.Request, s *schema.Schema, dst any) (any, error) {
	doc, err := ReadJSON(r, s)
	if err != nil {
		return nil, err
	}
	if dst != nil {
		if err := decodeInto(doc, dst); err != nil {
			return nil, err
		}
	}
	return pycompat.Unordered(doc), nil
}

// decodeInto fills dst from doc through encoding/json.
func decodeInto(doc, dst any) error {
	data, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(data, dst)
	}
	if err == nil {
		return nil
	}
	// encoding/json refuses 16.0 for an int; retry with such numbers
	// written as integers.
	again, merr := json.Marshal(integralNumbers(doc))
	if merr != nil || json.Unmarshal(again, dst) != nil {
		return placement.E(placement.Invalid, "JSON does not validate: %v", err)
	}
	return nil
}

// integralNumbers returns doc with json.Numbers such as "16.0" written as
// "16".
func integralNumbers(v any) any { return pycompat.MapNumbers(v, integral) }

// An integer beyond int64 is written as the nearest int64: the only such
// fields the schemas leave unbounded are generations, which it then does
// not match, as upstream's unbounded ints do not.
func integral(t json.Number) any {
	i, err := strconv.ParseInt(string(t), 10, 64)
	if err == nil {
		return t
	}
	if errors.Is(err, strconv.ErrRange) {
		return json.Number(strconv.FormatInt(i, 10))
	}
	f, err := t.Float64()
	switch {
	case err != nil || f != math.Trunc(f):
		return t
	case f >= 9.2e18:
		return json.Number(strconv.FormatInt(math.MaxInt64, 10))
	case f <= -9.2e18:
		return json.Number(strconv.FormatInt(math.MinInt64, 10))
	}
	return json.Number(strconv.FormatInt(int64(f), 10))
}

// ValidateQuery checks the query string against s the way upstream does: a
// flat object of the last value of each parameter.
func ValidateQuery(r *http.Request, s *schema.Schema) (url.Values, error) {
	pairs, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range pairs {
		q.Add(p.Key, p.Value)
	}
	if s == nil {
		return q, nil
	}
	flat := make(map[string]any, len(q))
	for k, vs := range q {
		flat[k] = vs[len(vs)-1]
	}
	if err := s.Validate(flat); err != nil {
		return nil, placement.E(placement.Invalid, MsgQuery, err)
	}
	return q, nil
}

// JSON writes v as the JSON response body with the given status.
func JSON(w http.ResponseWriter, status int, v any) error {
	data, err := Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(data)
	return err
}

// NoContent writes an empty response with the given status (201 or 204).
func NoContent(w http.ResponseWriter, status int) error {
	w.WriteHeader(status)
	return nil
}

// PutResult answers a PUT that creates a thing when it is missing: an
// empty 201 when it was created, an empty 204 when it was already there.
func PutResult(w http.ResponseWriter, created bool) error {
	if created {
		return NoContent(w, http.StatusCreated)
	}
	return NoContent(w, http.StatusNoContent)
}

// CacheHeaders sets Cache-Control and Last-Modified from microversion 1.15
// on; a zero t means "now".
func CacheHeaders(w http.ResponseWriter, r *http.Request, t time.Time) {
	if !Version(r).AtLeast(1, 15) {
		return
	}
	if t.IsZero() {
		t = time.Now()
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Last-Modified", t.UTC().Format(http.TimeFormat))
}

// NoCacheOnly sets Cache-Control alone (used where upstream omits
// Last-Modified, e.g. an empty inventory list) from 1.15 on.
func NoCacheOnly(w http.ResponseWriter, r *http.Request) {
	if Version(r).AtLeast(1, 15) {
		w.Header().Set("Cache-Control", "no-cache")
	}
}

// MediaType is the media type of a Content-Type value as WebOb gives it
// (request.content_type): the text before the first ';', not trimmed and
// case kept.
func MediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return mt
}

// IsJSONMedia reports whether the Content-Type value is application/json,
// compared as upstream compares it: exactly, parameters ignored.
func IsJSONMedia(contentType string) bool { return MediaType(contentType) == "application/json" }

// Marshal encodes v as JSON without HTML escaping ("<", ">" and "&" stay
// as they are, as Python's json module writes them) and without a trailing
// newline.
func Marshal(v any) ([]byte, error) { return pycompat.Marshal(v) }
